"""The CPR extract format: record layouts, typed values, CPR numbers, parsing."""
