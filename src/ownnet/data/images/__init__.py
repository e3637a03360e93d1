"""Your own images → MNIST-style 28x28 inputs, made the way MNIST was made.

MNIST digits are white ink (255) on black (0). Each one was cropped to its
ink, scaled so that the longer side of the ink's bounding box is 20 pixels
(keeping the aspect ratio, anti-aliased), and placed in a 28x28 field so that
the centre of mass of the ink lies at the centre, pixel (14, 14). A photo of a
digit on paper is none of these things, and a network trained on MNIST misreads
it unless it is prepared the same way. :func:`prepare` does that, one idea per
module:

1. :mod:`~ownnet.data.images.decode` - any image file, Pillow image or array to
   greyscale; EXIF rotation applied; the transparent part is the background; a
   large photo is reduced to a working size;
2. :mod:`~ownnet.data.images.page` - a photo that also shows the table is cut to
   the page;
3. :mod:`~ownnet.data.images.background` - the paper's brightness estimated
   locally (uneven light, faint pencil), the polarity (dark ink on light paper
   or light ink on a dark board) and each pixel's ink strength;
4. :mod:`~ownnet.data.images.lines` - ruled and grid lines taken out;
5. :mod:`~ownnet.data.images.ink` - faint noise and far specks dropped;
6. :mod:`~ownnet.data.images.slant` - the digit sheared to MNIST's typical slant;
7. :mod:`~ownnet.data.images.stroke` - strokes widened or thinned into MNIST's
   range of widths, and a font's hairlines widened to MNIST's thinnest pens (along the
   :mod:`~ownnet.data.images.skeleton` of the ink);
8. :mod:`~ownnet.data.images.place` - the longer side scaled to 20 px and the
   centre of mass put on (14, 14), in uint8 ``(28, 28)``.

:func:`prepare_steps` also returns the intermediate pictures and numbers;
:mod:`~ownnet.data.images.digits` finds the digits of a number in one picture.
Every bad image raises :class:`ImageError` (a blank one :class:`NoInkError`).
"""

from ownnet.data.images.decode import load_picture, open_image, read_grey
from ownnet.data.images.errors import ImageError, NoInkError
from ownnet.data.images.prepare import (
    Options,
    Prepared,
    Scene,
    find_scene,
    prepare,
    prepare_ink,
    prepare_steps,
)
from ownnet.data.images.stroke import stroke_width

__all__ = [
    "ImageError",
    "NoInkError",
    "Options",
    "Prepared",
    "Scene",
    "find_scene",
    "load_picture",
    "open_image",
    "prepare",
    "prepare_ink",
    "prepare_steps",
    "read_grey",
    "stroke_width",
]
