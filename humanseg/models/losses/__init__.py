"""Losses; importing this package registers them in ``LOSSES``."""
from humanseg.models.losses.cross_entropy_loss import CrossEntropyLoss
from humanseg.models.losses.lovasz_loss import LovaszHingeLoss, LovaszSoftmaxLoss
from humanseg.models.losses.mixed_loss import MixedLoss
from humanseg.models.losses.ohem_cross_entropy_loss import OhemCrossEntropyLoss
from humanseg.models.losses.semantic_connectivity import SemanticConnectivityLoss

__all__ = ["CrossEntropyLoss", "LovaszHingeLoss", "LovaszSoftmaxLoss", "MixedLoss",
           "OhemCrossEntropyLoss", "SemanticConnectivityLoss"]
