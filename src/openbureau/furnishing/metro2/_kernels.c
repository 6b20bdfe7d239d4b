/* Compiled per-record loops for the reader's field decoding (bytecols.Block is the only
 * caller; the Python side keeps the arrays' shapes, this side checks every bound it relies on).
 *
 * Whole-column numpy operations decode a fixed-width field in a handful of passes, but each
 * pass streams a temporary through memory, and a base segment has 27 text fields, 14 numbers
 * and 5 dates: those passes were most of the reader's time. Here one pass per record decodes
 * every field of a kind while the record's bytes are in cache:
 *   string_views   text fields -> Arrow string views (length without trailing blanks, first
 *                  four bytes, then bytes 4..12 inline or buffer 0 and the byte offset);
 *   digit_numbers  zero-filled ASCII numbers -> int64 and "all digits";
 *   dates          MMDDYYYY -> days since 1970-01-01, empty (all zeros) or invalid;
 *   timestamps     MMDDYYYYHHMMSS -> microseconds since 1970-01-01, empty or invalid;
 *   in_set         whether a field's bytes are all of a set (the record rules' checks).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "Arrow string views are built as little-endian words"
#endif

#define INLINE_MAX 12
/* records ahead whose field bytes are prefetched: the records of a chunk are spread over
 * more memory than the caches hold, and each kind of field is a pass of its own */
#define AHEAD 8
static const uint64_t BLANKS = 0x2020202020202020ULL;

/* LOW[k] keeps the low k bytes of a little-endian word */
static const uint64_t LOW[9] = {0, 0xFF, 0xFFFF, 0xFFFFFF, 0xFFFFFFFF, 0xFFFFFFFFFFULL,
                                0xFFFFFFFFFFFFULL, 0xFFFFFFFFFFFFFFULL, ~0ULL};

static inline Py_ssize_t clamp8(Py_ssize_t k) { return k < 0 ? 0 : (k > 8 ? 8 : k); }

/* The length without trailing blanks, word by word and without data-dependent branches (the
 * lengths of real text vary from record to record, so a byte loop mispredicts): each word
 * that is not all blanks moves the end to just after its last non-blank byte. Reads up to 7
 * bytes past the field. */
static inline Py_ssize_t trimmed_length(const uint8_t *p, Py_ssize_t w) {
    Py_ssize_t k = 0, s = 0;
    for (; s < w; s += 8) {
        uint64_t x;
        memcpy(&x, p + s, 8);
        x = (x ^ BLANKS) & LOW[clamp8(w - s)];
        Py_ssize_t end = s + 8 - (__builtin_clzll(x | 1) >> 3);
        k = x ? end : k;
    }
    return k;
}

static const uint64_t ZEROS = 0x3030303030303030ULL;  /* "00000000" */

/* All eight bytes of a word are ASCII digits (no byte's high nibble differs from 3, before
 * or after adding 6). */
static inline unsigned eight_digits(uint64_t x) {
    const uint64_t high = 0xF0F0F0F0F0F0F0F0ULL, sixes = 0x0606060606060606ULL;
    return ((x & high) == ZEROS) & (((x + sixes) & high) == ZEROS);
}

/* The value of eight ASCII digits, first digit in the low byte: pairs, then fours, then all
 * eight combined by three multiplications (no chain of eight multiply-adds). */
static inline uint64_t eight_digits_value(uint64_t x) {
    uint64_t v = (((x - ZEROS) & 0x0F0F0F0F0F0F0F0FULL) * 2561) >> 8;
    v = ((v & 0x00FF00FF00FF00FFULL) * 6553601) >> 16;
    return ((v & 0x0000FFFF0000FFFFULL) * 42949672960001ULL) >> 32;
}

/* Releases the buffers a function parsed and returns its result. */
static PyObject *release(PyObject *result, Py_buffer **buffers, int count) {
    for (int i = 0; i < count; i++) PyBuffer_Release(buffers[i]);
    return result;
}

/* The number of fields given by int64 `offsets` and `widths`, or -1 with an exception set. */
static Py_ssize_t field_count(Py_buffer *offsets, Py_buffer *widths) {
    Py_ssize_t nf = widths->len / 8;
    if (widths->len % 8 || offsets->len != widths->len) {
        PyErr_SetString(PyExc_ValueError, "offsets and widths must be int64 arrays of one length");
        return -1;
    }
    return nf;
}

static int check_buffer(Py_buffer *b, Py_ssize_t need, const char *name) {
    if (b->len < need) {
        PyErr_Format(PyExc_ValueError, "%s holds %zd bytes, %zd needed", name, b->len, need);
        return -1;
    }
    return 0;
}

/* The record layout every function takes: n records stride bytes apart from start in data,
 * and nf fields given by int64 offsets (and widths). Reads reach `slack` bytes past a field
 * (at least `least` bytes from its start); all of it must be inside data. Fields have the
 * widths `wid`, or all `width` bytes when wid is NULL. */
static int check_fields(Py_buffer *data, Py_ssize_t start, Py_ssize_t stride, Py_ssize_t n,
                        const int64_t *off, const int64_t *wid, Py_ssize_t width, Py_ssize_t nf,
                        Py_ssize_t slack, Py_ssize_t least) {
    if (start < 0 || stride < 0 || n < 0) {
        PyErr_SetString(PyExc_ValueError, "negative start, stride or record count");
        return -1;
    }
    if (n == 0) return 0;
    Py_ssize_t last = start + (n - 1) * stride;
    for (Py_ssize_t f = 0; f < nf; f++) {
        Py_ssize_t w = wid ? wid[f] : width;
        Py_ssize_t reach = w + slack > least ? w + slack : least;
        if (off[f] < 0 || w < 0 || last + off[f] + reach > data->len ||
            last + off[f] + w > (Py_ssize_t)UINT32_MAX) {
            PyErr_Format(PyExc_ValueError, "field %zd (offset %lld, width %zd) is outside "
                         "the buffer", f, (long long)off[f], w);
            return -1;
        }
    }
    return 0;
}

/* string_views(data, start, stride, n, offsets, widths, trims, views)
 * Record i is at data[start + i * stride]; field f is widths[f] bytes at offsets[f] (int64
 * arrays), trimmed of trailing blanks when trims[f] (uint8). Writes views[f, i], two uint64
 * words whose low 32 bits are the length. Views of strings over 12 bytes point into buffer
 * 0 = data. */
static PyObject *string_views(PyObject *self, PyObject *args) {
    Py_buffer data, offsets, widths, trims, views;
    Py_ssize_t start, stride, n;
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "y*nnny*y*y*w*", &data, &start, &stride, &n, &offsets,
                          &widths, &trims, &views))
        return NULL;
    const int64_t *off = offsets.buf, *wid = widths.buf;
    const uint8_t *trim = trims.buf, *bytes = data.buf;
    uint64_t *out = views.buf;
    Py_ssize_t nf = field_count(&offsets, &widths);
    if (nf < 0) goto done;
    if (trims.len != nf) {
        PyErr_SetString(PyExc_ValueError, "trims must hold one byte a field");
        goto done;
    }
    /* words are read up to 7 bytes past the field, and at byte 4 of every field */
    if (check_buffer(&views, nf * n * 16, "views") ||
        check_fields(&data, start, stride, n, off, wid, 0, nf, 8, INLINE_MAX))
        goto done;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t row = start + i * stride;
        for (Py_ssize_t f = 0; f < nf; f++) {
            Py_ssize_t at = row + off[f];
            __builtin_prefetch(bytes + at + AHEAD * stride);
            const uint8_t *p = bytes + at;
            Py_ssize_t k = trim[f] ? trimmed_length(p, wid[f]) : wid[f];
            uint64_t w0, w1;
            memcpy(&w0, p, 8);
            memcpy(&w1, p + 4, 8);
            /* bytes 4..12 inline, or buffer 0 at this field */
            uint64_t tail = k <= INLINE_MAX ? w1 & LOW[clamp8(k - 4)] : (uint64_t)at << 32;
            Py_ssize_t slot = f * n + i;
            out[2 * slot] = (uint64_t)k | ((w0 & LOW[k < 4 ? k : 4]) << 32);
            out[2 * slot + 1] = tail;
        }
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    return release(result, (Py_buffer *[]){&data, &offsets, &widths, &trims, &views}, 5);
}


/* Zero-filled ASCII digits, up to 18. As numpy's reader decoded them: a leading '-' is a
 * sign when the width is not a multiple of eight (and over one byte); any other byte that is
 * not a digit makes the value invalid (0, ok = 0). */
static PyObject *digit_numbers(PyObject *self, PyObject *args) {
    Py_buffer data, offsets, widths, values, oks;
    Py_ssize_t start, stride, n;
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "y*nnny*y*w*w*", &data, &start, &stride, &n, &offsets,
                          &widths, &values, &oks))
        return NULL;
    const int64_t *off = offsets.buf, *wid = widths.buf;
    const uint8_t *bytes = data.buf;
    int64_t *val = values.buf;
    uint8_t *ok = oks.buf;
    Py_ssize_t nf = field_count(&offsets, &widths);
    if (nf < 0) goto done;
    for (Py_ssize_t f = 0; f < nf; f++) {
        if (wid[f] < 1 || wid[f] > 18) {
            PyErr_Format(PyExc_ValueError, "a number of %lld digits", (long long)wid[f]);
            goto done;
        }
    }
    if (check_buffer(&values, nf * n * 8, "values") || check_buffer(&oks, nf * n, "oks") ||
        check_fields(&data, start, stride, n, off, wid, 0, nf, 7, 8))
        goto done;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t row = start + i * stride;
        for (Py_ssize_t f = 0; f < nf; f++) {
            const uint8_t *p = bytes + row + off[f];
            __builtin_prefetch(p + AHEAD * stride);
            Py_ssize_t w = wid[f];
            Py_ssize_t head = w & 7, j = head;
            int negative = w > 1 && head && p[0] == '-';
            uint64_t x, v = 0;
            unsigned good = 1;
            if (head) {  /* the leading digits, shifted up behind zeros to make eight */
                unsigned shift = 8 * (unsigned)(8 - head);
                memcpy(&x, p, 8);
                x = (x << shift) | (ZEROS & LOW[8 - head]);
                x += negative ? (uint64_t)3 << shift : 0;  /* '-' reads as '0' */
                good = eight_digits(x);
                v = eight_digits_value(x);
            }
            for (; j < w; j += 8) {
                memcpy(&x, p + j, 8);
                good &= eight_digits(x);
                v = v * 100000000 + eight_digits_value(x);
            }
            unsigned bad = !good;
            Py_ssize_t slot = f * n + i;
            val[slot] = bad ? 0 : (negative ? -(int64_t)v : (int64_t)v);
            ok[slot] = !bad;
        }
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    return release(result, (Py_buffer *[]){&data, &offsets, &widths, &values, &oks}, 5);
}

/* in_set(data, start, stride, n, offset, width, trim, repeated, table, out): out[i] = 1 when
 * record i's field (without its trailing blanks when trim) is not empty and each of its bytes
 * b has table[b] set (table: 256 bytes), and when repeated, every byte is the first one. The
 * record rules' character checks: digits only, one character repeated, payment history
 * profile characters. */
static PyObject *in_set(PyObject *self, PyObject *args) {
    Py_buffer data, table, outs;
    Py_ssize_t start, stride, n, off, width;
    int trim, repeated;
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "y*nnnnnppy*w*", &data, &start, &stride, &n, &off, &width, &trim,
                          &repeated, &table, &outs))
        return NULL;
    const int64_t offset = off;
    const int64_t widths = width;
    const uint8_t *bytes = data.buf, *allowed = table.buf;
    uint8_t *out = outs.buf;
    if (table.len != 256) {
        PyErr_SetString(PyExc_ValueError, "the table must hold 256 bytes");
        goto done;
    }
    if (check_buffer(&outs, n, "out") ||
        check_fields(&data, start, stride, n, &offset, &widths, 0, 1, 8, 0))
        goto done;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        const uint8_t *p = bytes + start + i * stride + off;
        __builtin_prefetch(p + AHEAD * stride);
        Py_ssize_t k = trim ? trimmed_length(p, width) : width;
        unsigned good = k > 0;
        for (Py_ssize_t j = 0; j < k; j++) good &= allowed[p[j]] & (!repeated | (p[j] == p[0]));
        out[i] = (uint8_t)good;
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    return release(result, (Py_buffer *[]){&data, &table, &outs}, 3);
}

/* states of a decoded date or timestamp; values are 0 unless valid */
enum { MOMENT_VALID = 0, MOMENT_EMPTY = 1, MOMENT_INVALID = 2 };
#define FIRST_YEAR 1800
#define YEARS 400 /* 1800-2199: dates outside these years are rejected as implausible */
/* per (year, month) from FIRST_YEAR: the day number of its 1st, and its number of days */
static int32_t MONTH_START[YEARS * 12];
static uint8_t MONTH_LENGTH[YEARS * 12];

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void fill_month_tables(void) {
    for (int k = 0; k < YEARS * 12; k++) {
        int y = FIRST_YEAR + k / 12, m = k % 12 + 1;
        int64_t first = days_from_civil(y, m, 1);
        MONTH_START[k] = (int32_t)first;
        MONTH_LENGTH[k] = (uint8_t)(days_from_civil(m == 12 ? y + 1 : y, m % 12 + 1, 1) - first);
    }
}

/* Digits MMDDYYYY (v[0..7]) -> days since 1970-01-01 in *days, when they are a real calendar
 * day between 1800 and 2199 (as columns.date_from_parts decides): table lookups, since the
 * divisions of the calendar arithmetic cost more than everything else here. */
static inline int civil_days(const int *v, int64_t *days) {
    unsigned m = (unsigned)(v[0] * 10 + v[1]) - 1, d = (unsigned)(v[2] * 10 + v[3]) - 1;
    unsigned y = (unsigned)(v[4] * 1000 + v[5] * 100 + v[6] * 10 + v[7]) - FIRST_YEAR;
    if (y >= YEARS || m >= 12) return 0;
    unsigned k = y * 12 + m;
    if (d >= MONTH_LENGTH[k]) return 0;
    *days = MONTH_START[k] + (int64_t)d;
    return 1;
}

/* The shared shape of dates() and timestamps(): for every record and field, `decode` reads
 * the field's bytes into a value and a state. */
typedef uint8_t (*moment_decoder)(const uint8_t *p, int64_t *value);

static PyObject *decode_moments(PyObject *args, Py_ssize_t width, moment_decoder decode) {
    Py_buffer data, offsets, values, states;
    Py_ssize_t start, stride, n;
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "y*nnny*w*w*", &data, &start, &stride, &n, &offsets, &values,
                          &states))
        return NULL;
    Py_ssize_t nf = offsets.len / 8;
    const int64_t *off = offsets.buf;
    const uint8_t *bytes = data.buf;
    int64_t *out = values.buf;
    uint8_t *state = states.buf;
    if (check_buffer(&values, nf * n * 8, "values") || check_buffer(&states, nf * n, "states") ||
        check_fields(&data, start, stride, n, off, NULL, width, nf, 0, 0))
        goto done;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t row = start + i * stride;
        for (Py_ssize_t f = 0; f < nf; f++) {
            Py_ssize_t slot = f * n + i;
            out[slot] = 0;
            __builtin_prefetch(bytes + row + off[f] + AHEAD * stride);
            state[slot] = decode(bytes + row + off[f], out + slot);
        }
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    return release(result, (Py_buffer *[]){&data, &offsets, &values, &states}, 4);
}

/* Reads `count` ASCII digits into v; nonzero when some byte was not a digit. */
static inline unsigned read_digits(const uint8_t *p, int count, int *v) {
    unsigned bad = 0;
    for (int j = 0; j < count; j++) {
        unsigned digit = (unsigned)p[j] - '0';
        bad |= digit > 9;
        v[j] = (int)digit;
    }
    return bad;
}

static inline int all_zero(const int *v, int count) {
    int any = 0;
    for (int j = 0; j < count; j++) any |= v[j];
    return !any;
}

static uint8_t decode_date(const uint8_t *p, int64_t *days) {
    int v[8];
    if (read_digits(p, 8, v)) return MOMENT_INVALID;
    if (all_zero(v, 8)) return MOMENT_EMPTY;
    return civil_days(v, days) ? MOMENT_VALID : MOMENT_INVALID;
}

/* MMDDYYYYHHMMSS. Like any 14-digit number a leading '-' is read as a sign: "-0...0" is zero
 * (empty) and any other negative timestamp is invalid. */
static uint8_t decode_timestamp(const uint8_t *p, int64_t *micros) {
    int v[14];
    int negative = p[0] == '-';
    v[0] = 0;
    if (read_digits(p + negative, 14 - negative, v + negative)) return MOMENT_INVALID;
    if (all_zero(v, 14)) return MOMENT_EMPTY;
    int64_t days;
    int hh = v[8] * 10 + v[9], mi = v[10] * 10 + v[11], ss = v[12] * 10 + v[13];
    if (negative || !civil_days(v, &days) || hh > 23 || mi > 59 || ss > 59)
        return MOMENT_INVALID;
    *micros = (days * 86400 + hh * 3600 + mi * 60 + ss) * 1000000;
    return MOMENT_VALID;
}

/* dates(data, start, stride, n, offsets, days, states): MMDDYYYY -> days since 1970-01-01 */
static PyObject *dates(PyObject *self, PyObject *args) {
    return decode_moments(args, 8, decode_date);
}

/* timestamps(data, start, stride, n, offsets, micros, states): MMDDYYYYHHMMSS ->
 * microseconds since 1970-01-01 00:00 */
static PyObject *timestamps(PyObject *self, PyObject *args) {
    return decode_moments(args, 14, decode_timestamp);
}

static PyMethodDef methods[] = {
    {"string_views", string_views, METH_VARARGS,
     "string_views(data, start, stride, n, offsets, widths, trims, views): the Arrow "
     "string views of fixed-width text fields of equally spaced records."},
    {"digit_numbers", digit_numbers, METH_VARARGS,
     "digit_numbers(data, start, stride, n, offsets, widths, values, oks): zero-filled ASCII "
     "numbers of equally spaced records as int64 values and 0/1 flags."},
    {"dates", dates, METH_VARARGS,
     "dates(data, start, stride, n, offsets, days, states): MMDDYYYY fields of equally spaced "
     "records as days since 1970-01-01 and states 0 valid, 1 empty, 2 invalid."},
    {"timestamps", timestamps, METH_VARARGS,
     "timestamps(data, start, stride, n, offsets, micros, states): MMDDYYYYHHMMSS fields of "
     "equally spaced records as microseconds since 1970-01-01 and states as dates() gives."},
    {"in_set", in_set, METH_VARARGS,
     "in_set(data, start, stride, n, offset, width, trim, repeated, table, out): whether each "
     "record's field, trailing blanks dropped when trim, is not empty and all in table (256 "
     "bytes), and one byte repeated when repeated."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels", NULL, -1, methods};

PyMODINIT_FUNC PyInit__kernels(void) {
    fill_month_tables();
    return PyModule_Create(&module);
}
