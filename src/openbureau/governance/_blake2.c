/*
 * Keyed BLAKE2b (RFC 7693) over lists of strings: the bureau's blind indexes.
 *
 * Every furnished record is hashed several times (identity hash, blind indexes, blocking
 * keys). hashlib computes the same digests, but each value then costs four Python calls
 * (copy, update, digest, int.from_bytes), about 1.5 us; here a value costs one compression
 * of one block. The key block is compressed once per call and its state reused for every
 * value. tests/governance/test_blake2.py checks every function against hashlib.
 *
 * Digests are 32 bytes with a 32-byte key, hashlib.blake2b(prefix + value, key=key,
 * digest_size=32), where prefix separates the kinds of value ("name\0", "blocking\0").
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define BLOCK 128
#define DIGEST 32
#define KEY 32

static const uint64_t IV[8] = {
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL,
    0xa54ff53a5f1d36f1ULL, 0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL,
    0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
};

/* The message schedule of rounds 0-9; rounds 10 and 11 repeat rounds 0 and 1. */
static const uint8_t SIGMA[10][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
};

static inline uint64_t rotr(uint64_t x, int n) { return (x >> n) | (x << (64 - n)); }

static inline uint64_t load64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

#define G(a, b, c, d, x, y)                 \
    do {                                    \
        v[a] = v[a] + v[b] + (x);           \
        v[d] = rotr(v[d] ^ v[a], 32);       \
        v[c] = v[c] + v[d];                 \
        v[b] = rotr(v[b] ^ v[c], 24);       \
        v[a] = v[a] + v[b] + (y);           \
        v[d] = rotr(v[d] ^ v[a], 16);       \
        v[c] = v[c] + v[d];                 \
        v[b] = rotr(v[b] ^ v[c], 63);       \
    } while (0)

/* One compression of a full 128-byte block; `bytes` counts the message so far (t). */
static void compress(uint64_t h[8], const uint8_t block[BLOCK], uint64_t bytes, int last) {
    uint64_t m[16], v[16];
    for (int i = 0; i < 16; i++) m[i] = load64(block + 8 * i);
    for (int i = 0; i < 8; i++) {
        v[i] = h[i];
        v[i + 8] = IV[i];
    }
    v[12] ^= bytes;  /* messages here are far below 2^64 bytes: the high word stays 0 */
    if (last) v[14] = ~v[14];
    for (int r = 0; r < 12; r++) {
        const uint8_t *s = SIGMA[r % 10];
        G(0, 4, 8, 12, m[s[0]], m[s[1]]);
        G(1, 5, 9, 13, m[s[2]], m[s[3]]);
        G(2, 6, 10, 14, m[s[4]], m[s[5]]);
        G(3, 7, 11, 15, m[s[6]], m[s[7]]);
        G(0, 5, 10, 15, m[s[8]], m[s[9]]);
        G(1, 6, 11, 12, m[s[10]], m[s[11]]);
        G(2, 7, 8, 13, m[s[12]], m[s[13]]);
        G(3, 4, 9, 14, m[s[14]], m[s[15]]);
    }
    for (int i = 0; i < 8; i++) h[i] ^= v[i] ^ v[i + 8];
}

/* The state after the key block. The prefix is never empty, so the key block is never the
 * last one and is compressed as an ordinary block. */
static void keyed_state(uint64_t h[8], const uint8_t key[KEY]) {
    uint8_t block[BLOCK] = {0};
    memcpy(h, IV, sizeof IV);
    h[0] ^= 0x01010000ULL ^ ((uint64_t)KEY << 8) ^ DIGEST;
    memcpy(block, key, KEY);
    compress(h, block, BLOCK, 0);
}

/* Digest of prefix + value, continuing from the keyed state. */
static void digest(const uint64_t keyed[8], const uint8_t *prefix, Py_ssize_t prefix_len,
                   const uint8_t *value, Py_ssize_t value_len, uint8_t out[DIGEST]) {
    uint64_t h[8];
    uint8_t block[BLOCK];
    Py_ssize_t total = prefix_len + value_len, done = 0;
    uint64_t counted = BLOCK;
    memcpy(h, keyed, sizeof h);
    /* Fill a block from the concatenation without building it; the last block, full or
     * not, is compressed as the final one. */
    while (1) {
        Py_ssize_t take = total - done > BLOCK ? BLOCK : total - done;
        for (Py_ssize_t i = 0, piece; i < take; i += piece) {
            Py_ssize_t at = done + i;
            if (at < prefix_len) {
                piece = prefix_len - at < take - i ? prefix_len - at : take - i;
                memcpy(block + i, prefix + at, piece);
            } else {
                piece = take - i;
                memcpy(block + i, value + (at - prefix_len), piece);
            }
        }
        memset(block + take, 0, BLOCK - take);
        done += take;
        counted += (uint64_t)take;
        int last = done == total;
        compress(h, block, counted, last);
        if (last) break;
    }
    for (int i = 0; i < DIGEST / 8; i++)
        for (int j = 0; j < 8; j++) out[8 * i + j] = (uint8_t)(h[i] >> (8 * j));
}

/* Parses (key, prefix, values) and checks them; returns 0 and sets an exception if bad. */
static int parse_args(PyObject *args, Py_buffer *key, Py_buffer *prefix, PyObject **values) {
    if (!PyArg_ParseTuple(args, "y*y*O!", key, prefix, &PyList_Type, values)) return 0;
    if (key->len != KEY || prefix->len == 0) {
        PyErr_SetString(PyExc_ValueError, "the key must be 32 bytes and the prefix non-empty");
        PyBuffer_Release(key);
        PyBuffer_Release(prefix);
        return 0;
    }
    return 1;
}

/* Digest of item i of the list, or -1 with TypeError if it is not a str. */
static int item_digest(PyObject *values, Py_ssize_t i, const uint64_t keyed[8],
                       const Py_buffer *prefix, uint8_t out[DIGEST]) {
    Py_ssize_t len;
    const char *text = PyUnicode_AsUTF8AndSize(PyList_GET_ITEM(values, i), &len);
    if (text == NULL) return -1;
    digest(keyed, prefix->buf, prefix->len, (const uint8_t *)text, len, out);
    return 0;
}

/* How a function hands its digests back: a container for n of them, and a store of one. */
typedef struct {
    PyObject *(*start)(Py_ssize_t n);
    int (*store)(PyObject *result, Py_ssize_t i, const uint8_t digest[DIGEST]);
} Output;

/* The digest of every value of (key, prefix, values), stored as `output` says. */
static PyObject *digests_of(PyObject *args, const Output *output) {
    Py_buffer key, prefix;
    PyObject *values;
    if (!parse_args(args, &key, &prefix, &values)) return NULL;
    uint64_t keyed[8];
    keyed_state(keyed, key.buf);
    Py_ssize_t n = PyList_GET_SIZE(values);
    PyObject *result = output->start(n);
    for (Py_ssize_t i = 0; result != NULL && i < n; i++) {
        uint8_t digest[DIGEST];
        if (item_digest(values, i, keyed, &prefix, digest) < 0 ||
            output->store(result, i, digest) < 0)
            Py_CLEAR(result);
    }
    PyBuffer_Release(&key);
    PyBuffer_Release(&prefix);
    return result;
}

static PyObject *new_list(Py_ssize_t n) { return PyList_New(n); }

static int store_hex(PyObject *list, Py_ssize_t i, const uint8_t digest[DIGEST]) {
    static const char HEX[] = "0123456789abcdef";
    PyObject *text = PyUnicode_New(2 * DIGEST, 127);
    if (text == NULL) return -1;
    Py_UCS1 *chars = PyUnicode_1BYTE_DATA(text);
    for (int j = 0; j < DIGEST; j++) {
        chars[2 * j] = HEX[digest[j] >> 4];
        chars[2 * j + 1] = HEX[digest[j] & 15];
    }
    PyList_SET_ITEM(list, i, text);
    return 0;
}

static PyObject *new_int64s(Py_ssize_t n) { return PyBytes_FromStringAndSize(NULL, n * 8); }

static int store_leading_int64(PyObject *bytes, Py_ssize_t i, const uint8_t digest[DIGEST]) {
    uint64_t big = 0;
    for (int j = 0; j < 8; j++) big = (big << 8) | digest[j];
    ((int64_t *)PyBytes_AS_STRING(bytes))[i] = (int64_t)big;
    return 0;
}

static PyObject *hex_digests(PyObject *self, PyObject *args) {
    static const Output HEX_LIST = {new_list, store_hex};
    return digests_of(args, &HEX_LIST);
}

static PyObject *leading_int64s(PyObject *self, PyObject *args) {
    static const Output INT64_BYTES = {new_int64s, store_leading_int64};
    return digests_of(args, &INT64_BYTES);
}

static PyMethodDef METHODS[] = {
    {"hex_digests", hex_digests, METH_VARARGS,
     "hex_digests(key, prefix, values) -> list of str\n\n"
     "hashlib.blake2b(prefix + value.encode(), key=key, digest_size=32).hexdigest() "
     "of each str in the list."},
    {"leading_int64s", leading_int64s, METH_VARARGS,
     "leading_int64s(key, prefix, values) -> bytes\n\n"
     "The first 8 bytes of each value's digest (as hex_digests) read as a big-endian "
     "signed integer, packed as native int64s (numpy.frombuffer(..., 'int64'))."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {PyModuleDef_HEAD_INIT, "_blake2",
                                    "Keyed BLAKE2b over lists of strings.", -1, METHODS};

PyMODINIT_FUNC PyInit__blake2(void) { return PyModule_Create(&MODULE); }
