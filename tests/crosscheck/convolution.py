"""Cross-check rows of the convolutions: conv2d, im2col / col2im (unfold / fold), conv1d, conv_transpose2d.

A padding (left, right, top, bottom), which PyTorch's convolutions do not
take, is checked against PyTorch's ``F.pad`` then the unpadded op.
"""
import warnings

import minidl.nn.functional as F
from cases import TF, case, torch


def _torch_same_even(x, w):
    """torch's conv1d 'same' with an even kernel: it warns that it pads a copy (its speed, not its result)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return TF.conv1d(x, w, padding="same")


# ------------------------------------------------------------------ conv2d
CONV = [
    dict(), dict(stride=2), dict(padding=1), dict(padding=(2, 1)), dict(dilation=2), dict(stride=2, padding=1, dilation=2),
    dict(padding="same"), dict(padding="valid"),
]
for options in CONV:
    case(f"conv2d {options}", lambda x, w, b, o=options: F.conv2d(x, w, b, **o),
         lambda x, w, b, o=options: TF.conv2d(x, w, b, **o), ((2, 3, 9, 8), (4, 3, 3, 3), (4,)))
case("conv2d no bias", lambda x, w: F.conv2d(x, w), lambda x, w: TF.conv2d(x, w), ((2, 3, 7, 7), (4, 3, 3, 3)))
case("conv2d 1x1", lambda x, w: F.conv2d(x, w), lambda x, w: TF.conv2d(x, w), ((2, 6, 5, 5), (4, 6, 1, 1)))
case("conv2d non-square kernel", lambda x, w: F.conv2d(x, w, padding=(1, 2)),
     lambda x, w: TF.conv2d(x, w, padding=(1, 2)), ((2, 2, 7, 8), (3, 2, 3, 5)))
case("conv2d groups 2", lambda x, w, b: F.conv2d(x, w, b, groups=2), lambda x, w, b: TF.conv2d(x, w, b, groups=2),
     ((2, 4, 6, 6), (6, 2, 3, 3), (6,)))
case("conv2d depthwise", lambda x, w: F.conv2d(x, w, padding=1, groups=4),
     lambda x, w: TF.conv2d(x, w, padding=1, groups=4), ((2, 4, 6, 6), (4, 1, 3, 3)))

# (left, right, top, bottom): PyTorch's conv2d of the F.pad-ded input
for pad, options, shapes in (
    ((1, 2, 0, 3), dict(), ((2, 3, 7, 8), (4, 3, 3, 3), (4,))),
    ((0, 1, 2, 0), dict(stride=2, dilation=(1, 2)), ((2, 3, 9, 8), (4, 3, 3, 2), (4,))),
    ((2, 0, 1, 1), dict(groups=2), ((2, 4, 6, 6), (6, 2, 3, 3), (6,))),
    ((1, 0, 0, 1), dict(groups=4), ((2, 4, 6, 6), (4, 1, 2, 2), (4,))),  # depthwise
):
    case(f"conv2d padding={pad} {options}", lambda x, w, b, p=pad, o=options: F.conv2d(x, w, b, padding=p, **o),
         lambda x, w, b, p=pad, o=options: TF.conv2d(TF.pad(x, p), w, b, **o), shapes)

for options in (dict(kernel_size=3), dict(kernel_size=(2, 3), stride=2, padding=1, dilation=(1, 2))):
    case(f"im2col (unfold) {options}", lambda x, o=options: F.im2col(x, **o), lambda x, o=options: TF.unfold(x, **o),
         ((2, 3, 7, 8),))
    case(f"col2im (fold) {options}", lambda c, o=options: F.col2im(c, (7, 8), **o),
         lambda c, o=options: TF.fold(c, (7, 8), **o), (TF.unfold(torch.zeros(2, 3, 7, 8), **options).shape,))
case("im2col (unfold) padding=(1, 0, 2, 1)", lambda x: F.im2col(x, (2, 3), padding=(1, 0, 2, 1)),
     lambda x: TF.unfold(TF.pad(x, (1, 0, 2, 1)), (2, 3)), ((2, 3, 5, 6),))

# ------------------------------------------------------------------ conv1d
CONV1D = [
    dict(), dict(stride=2), dict(padding=1), dict(dilation=2), dict(stride=2, padding=2, dilation=2),
    dict(padding="same"), dict(padding="same", dilation=2), dict(padding="valid"), dict(groups=2, padding=1),
]
for options in CONV1D:
    case(f"conv1d {options}", lambda x, w, b, o=options: F.conv1d(x, w, b, **o),
         lambda x, w, b, o=options: TF.conv1d(x, w, b, **o),
         ((2, 4, 11), (6, 4 // options.get("groups", 1), 3), (6,)))
case("conv1d no bias, even kernel 'same'", lambda x, w: F.conv1d(x, w, padding="same"),
     _torch_same_even, ((2, 3, 9), (2, 3, 4)))
case("conv1d depthwise", lambda x, w: F.conv1d(x, w, padding=2, groups=3),
     lambda x, w: TF.conv1d(x, w, padding=2, groups=3), ((2, 3, 8), (3, 1, 5)))
case("conv1d padding=(2, 0)", lambda x, w, b: F.conv1d(x, w, b, padding=(2, 0)),  # causal: only the past
     lambda x, w, b: TF.conv1d(TF.pad(x, (2, 0)), w, b), ((2, 3, 8), (4, 3, 3), (4,)))

# ------------------------------------------------------------------ conv_transpose2d
CONV_TRANSPOSE = [
    (dict(), ((2, 3, 5, 4), (3, 4, 3, 3), (4,))),
    (dict(stride=2), ((2, 3, 5, 4), (3, 4, 3, 3), (4,))),
    (dict(stride=2, padding=1, output_padding=1), ((2, 3, 5, 4), (3, 4, 3, 3), (4,))),
    (dict(stride=(2, 3), padding=(1, 0), output_padding=(0, 2)), ((2, 2, 4, 4), (2, 3, 2, 3), (3,))),
    (dict(dilation=2), ((2, 3, 5, 4), (3, 2, 3, 3), (2,))),
    (dict(dilation=2, output_padding=1), ((2, 3, 5, 4), (3, 2, 3, 3), (2,))),  # output_padding < dilation
    (dict(stride=2, padding=2, dilation=2, output_padding=1), ((2, 3, 5, 4), (3, 2, 3, 3), (2,))),
    (dict(groups=2, padding=1), ((2, 4, 5, 5), (4, 3, 3, 3), (6,))),
    (dict(groups=4, stride=2), ((2, 4, 3, 3), (4, 1, 2, 2), (4,))),  # depthwise
]
for options, shapes in CONV_TRANSPOSE:
    case(f"conv_transpose2d {options}", lambda x, w, b, o=options: F.conv_transpose2d(x, w, b, **o),
         lambda x, w, b, o=options: TF.conv_transpose2d(x, w, b, **o), shapes)
case("conv_transpose2d no bias", lambda x, w: F.conv_transpose2d(x, w, stride=2),
     lambda x, w: TF.conv_transpose2d(x, w, stride=2), ((2, 3, 4, 4), (3, 2, 3, 3)))
# (left, right, top, bottom): padding crops the output, so PyTorch's unpadded output cropped
case("conv_transpose2d padding=(1, 0, 2, 1) stride=2",
     lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=(1, 0, 2, 1)),
     lambda x, w, b: TF.conv_transpose2d(x, w, b, stride=2)[:, :, 2:-1, 1:], ((2, 3, 4, 5), (3, 2, 3, 3), (2,)))
