from __future__ import annotations
NativeResult = None
def to_native(c): pass
