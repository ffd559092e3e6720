"""Hostile-input suite: bad rasters, catalogues, job files, options, vectors and archives
against the ``eo-drr`` commands and the Python API. Each case asserts the outcome a user
should get (one plain error line naming the file / key / option, a documented warning, or
the documented result) and that nothing partial is left behind. Cases where eo-drr is wrong
today are strict xfails whose reason says what happens now; README.md lists every case."""
