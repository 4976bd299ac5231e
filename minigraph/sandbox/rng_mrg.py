"""`theano.sandbox.rng_mrg`: MRG_RandomStreams. minigraph has one generator, so it is RandomStreams."""
from ..random import RandomStreams

MRG_RandomStreams = RandomStreams
