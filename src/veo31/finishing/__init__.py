"""Finishing: a finished video made ready for each channel — reframed around the product, branded, mixed to the
channel's loudness — by one compositor, which the local renderer draws with too."""
