"""The error for a Theano name minigraph does not have: "not supported", never Python's guess
("Did you mean: 'row'?" for T.roll), which would send a student looking for the wrong function."""


class NotSupportedError(AttributeError):
    # Python fills `name` in for a failed attribute lookup and then guesses a near name when it
    # prints the error; with no name it makes no guess.
    name = property(lambda self: None, lambda self, value: None)


def not_supported(owner, name):
    """The AttributeError for `owner.name` (owner: 'minigraph.tensor', 'a variable'...)."""
    if name.startswith("_"):           # Python's own protocol lookups: a plain, quiet AttributeError
        return AttributeError(name)
    return NotSupportedError(f"{owner} has no {name!r}: this part of Theano is not supported by minigraph "
                             f"(minigraph/THEANO.md lists what of Theano's API minigraph has and lacks)")
