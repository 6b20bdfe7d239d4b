"""Metro 2 codec: streaming columnar reader, validator, native mapping and writer."""

from .errors import REJECTION_SCHEMA, FileRejected, RejectionReport
from .framing import Layout, detect_layout
from .mapping import NativeResult, to_native
from .reader import Chunk, Metro2File, read_chunks, read_file, validate_file
from .writer import Metro2Writer, write_file

__all__ = [
    "REJECTION_SCHEMA", "Chunk", "FileRejected", "Layout", "Metro2File", "Metro2Writer",
    "NativeResult", "RejectionReport", "detect_layout", "read_chunks", "read_file", "to_native",
    "validate_file", "write_file",
]
