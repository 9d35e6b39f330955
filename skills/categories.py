"""The five task categories of the method (DESIGN.md), in their order everywhere: routine
cognitive, routine manual, non-routine analytical, non-routine interpersonal, non-routine
manual. A plain module, so that the pure analysis code can read it without Django."""

CATEGORIES = ("rc", "rm", "nra", "nri", "nrm")
