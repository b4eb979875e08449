"""``make demo``: the scripted day replayed against the local stack (see ``demo.__main__``)."""
