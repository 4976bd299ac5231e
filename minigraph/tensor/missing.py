"""The error for a Theano name minigraph does not have: "not supported", never Python's guess
("Did you mean: 'row'?" for T.roll), which would send a student looking for the wrong function."""


class NotSupportedError(AttributeError):
    pass


def not_supported(owner, name):
    """The AttributeError for `owner.name` (owner: 'minigraph.tensor', 'a variable'...)."""
    if name.startswith("_"):           # Python's own protocol lookups: a plain, quiet AttributeError
        return AttributeError(name)
    return NotSupportedError(f"{owner} has no {name!r}: this part of Theano is not supported by minigraph "
                             f"(minigraph/README.md lists what of Theano's API is absent)")
