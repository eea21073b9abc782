"""Layers, losses and initialisation: ``import minidl.nn as nn``."""
from . import functional, init
from .activation import LeakyReLU, LogSoftmax, ReLU, ReLU6, Sigmoid, Softmax, Tanh
from .activation import (CELU, ELU, GELU, Hardsigmoid, Hardswish, Hardtanh, LogSigmoid, Mish, PReLU, SELU, SiLU,
                         Softplus, Softsign)
from .container import ModuleDict, ModuleList, Sequential
from .linear import Flatten, Identity, Linear
from .linear import Unflatten
from .loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .loss import BCELoss, HuberLoss, KLDivLoss, NLLLoss, SmoothL1Loss
from .module import Module, Parameter
from .conv import Conv2d
from .conv import Conv1d, ConvTranspose2d
from .dropout import Dropout, Dropout2d
from .fuse import fuse_conv_bn
from .normalization import BatchNorm1d, BatchNorm2d
from .layer_norm import GroupNorm, InstanceNorm2d, LayerNorm
from .embedding import Embedding
from .padding import ReflectionPad2d, ReplicationPad2d, ZeroPad2d
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from .pooling import MaxUnpool2d
from .upsampling import Upsample
from .summary import summary
from .fuse import find_conv_bn_pairs, fuse_model
