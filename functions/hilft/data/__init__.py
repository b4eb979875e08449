"""Static tables shipped with the functions (read from the package, never fetched at run time)."""
