"""The MoE layer split as Megatron splits it: router, token dispatch, experts, and the layer that composes them."""

from upcycling.moe.layer import MoELayer, MoEStats

__all__ = ["MoELayer", "MoEStats"]
