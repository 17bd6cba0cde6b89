"""scikit-learn's handwritten digits: 1797 images of 8 × 8 pixels, ten classes (0 to 9).

:func:`load_digits` returns the data the network experiment trains on: a fixed, seeded,
stratified split into training and test examples, the 64 pixels of each image scaled as
chosen, as float32 tensors. The data set ships inside scikit-learn (no download); it is
the test set of the UCI "Optical Recognition of Handwritten Digits" data (Alpaydin &
Kaynak, 1998), each pixel the number of inked points in a 4 × 4 block of a 32 × 32 bitmap,
so an integer from 0 to 16.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .rules._checks import check_whole

N_IMAGES = 1797
N_PIXELS = 64
N_CLASSES = 10
PIXEL_MAX = 16
SCALINGS = ("unit", "standard")
SPLITS = ("train", "test")


@dataclass(frozen=True)
class DigitsData:
    """The split digits. Pixels ``X_*`` are float32 (n × 64, row-major 8 × 8 images),
    labels ``y_*`` int64 class indices (what ``torch.nn.functional.cross_entropy`` takes)."""

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    train_index: np.ndarray
    """Which of scikit-learn's 1797 images are the training examples (sorted)."""
    test_index: np.ndarray
    class_names: tuple[str, ...]
    scaling: str
    seed: int

    @property
    def n_train(self) -> int:
        return len(self.y_train)

    @property
    def n_test(self) -> int:
        return len(self.y_test)

    def subset(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        """``(X, y)`` of the ``"train"`` or the ``"test"`` examples."""
        if split == "train":
            return self.X_train, self.y_train
        if split == "test":
            return self.X_test, self.y_test
        raise ValueError(f"split must be one of {SPLITS}; got {split!r}")


def load_digits(*, test_size: int = 297, seed: int = 0, scaling: str = "unit") -> DigitsData:
    """The digits, split into ``1797 - test_size`` training and ``test_size`` test images.

    Args:
        test_size: how many images are held out for testing (297 by default, leaving 1500
            to train on, the size of the airfoil experiment's data). At least one image of
            each class must be left on each side: from 10 to 1787.
        seed: which split (scikit-learn's ``train_test_split`` with ``random_state=seed``).
            The split is a property of the data set, fixed by this seed; the trainer's own
            seed chooses the initial weights and the order of the minibatches.
        scaling: ``"unit"`` (the default) divides every pixel by 16, its largest possible
            value, so that pixels lie in [0, 1]; ``"standard"`` subtracts each pixel's mean
            and divides by its standard deviation, both measured on the *training* images
            only, and applies the same numbers to the test images.

    The split is *stratified*: each class is split in the same proportion, so the 297 test
    images hold 29 or 30 of every digit. A plain random split of that size gives some digits
    18 test images and others 41 (seeds 0 to 4), and then the test accuracy weighs the
    digits unequally and moves with the split as much as with the optimizer.

    Why pixels are divided by 16 by default, and what a learner should know about the other
    choice:

    * Every pixel measures the same thing (ink in one block) on the same known scale, so
      dividing by the scale's maximum needs no statistics of the data: nothing about the
      test images can leak into training, and a blank block stays exactly 0 (about half of
      all pixels are blank). The input is still a picture one can draw.
    * Standardizing gives every pixel mean 0 and variance 1 on the training images, which
      treats a pixel that is almost always blank like any other: on the border, where a
      few images have a stray stroke, the standard deviation is as small as 0.026, and such
      a stroke becomes an input of about 39 (training) or 45 (test), where no unit-scaled
      input exceeds 1. Four border pixels are blank in every training image (standard
      deviation 0): they are left at 0 here, not divided by zero. How sensitive each
      optimizer is to this choice is what the two settings let one try.

    Raises:
        ValueError: an argument out of range or an unknown ``scaling``, naming the argument
            and the value.
    """
    check_whole("test_size", test_size, N_CLASSES, N_IMAGES - N_CLASSES)
    check_whole("seed", seed, 0, 2**32 - 1)  # numpy's RandomState takes 32-bit seeds
    if scaling not in SCALINGS:
        raise ValueError(f"scaling must be one of {SCALINGS}; got {scaling!r}")
    # Imported here: scikit-learn takes about a second to import, and only loading needs it.
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    bunch = sklearn_digits()
    pixels, labels = bunch.data, bunch.target
    train_index, test_index = train_test_split(
        np.arange(len(labels)), test_size=test_size, random_state=seed, stratify=labels
    )
    train_index, test_index = np.sort(train_index), np.sort(test_index)
    if scaling == "unit":
        offset, scale = 0.0, float(PIXEL_MAX)
    else:
        offset = pixels[train_index].mean(axis=0)
        spread = pixels[train_index].std(axis=0)
        scale = np.where(spread > 0, spread, 1.0)
    scaled = ((pixels - offset) / scale).astype(np.float32)

    def rows(index: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.from_numpy(scaled[index]), torch.from_numpy(labels[index].astype(np.int64))

    (X_train, y_train), (X_test, y_test) = rows(train_index), rows(test_index)
    return DigitsData(
        X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test,
        train_index=train_index, test_index=test_index,
        class_names=tuple(str(name) for name in bunch.target_names),
        scaling=scaling, seed=seed,
    )
