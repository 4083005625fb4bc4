package dev.verity.protocol.tensor;

import dev.verity.core.DecodingException;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * NumPy's binary formats for large tensors: {@code .npy} (one array) and {@code .npz} (a zip of
 * {@code name.npy} entries, for several named arrays). Only little-endian, C-order arrays of the
 * numeric and boolean {@link ElementType}s are accepted. Readers enforce {@link TensorLimits} before
 * allocating, and the .npz reader counts inflated bytes so a zip bomb is refused.
 */
public final class Npy {
  /**
   * Tensor sets with more data than this travel between Verity's client and node as .npz rather than
   * JSON, whichever way they go: JSON writes every number as text and parses it back (tens of
   * nanoseconds per element each way), .npz copies bytes. Small sets stay JSON, readable in logs.
   */
  public static final long BINARY_ABOVE_BYTES = 1024;

  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final int MAX_HEADER = 64 * 1024;
  /** One entry of the header's Python dict literal: key, value and the comma after it, if any. */
  private static final Pattern ENTRY =
      Pattern.compile("\\s*'([a-z_]{1,16})'\\s*:\\s*('[^']{1,16}'|True|False|\\([0-9,\\s]*\\))\\s*(,?)");
  private static final java.util.Set<String> HEADER_KEYS = java.util.Set.of("descr", "fortran_order", "shape");

  private Npy() {}

  /** Whether every tensor of the set has a .npy form (strings have none). */
  public static boolean canWrite(NamedTensors tensors) {
    return tensors.asMap().values().stream().allMatch(t -> t.type().npyDescr() != null);
  }

  /**
   * Whether a set should travel as .npz rather than JSON between Verity's client and node: it has
   * more data than {@link #BINARY_ABOVE_BYTES} and .npz can hold it.
   */
  public static boolean prefersBinary(NamedTensors tensors) {
    return tensors.totalBytes() > BINARY_ABOVE_BYTES && canWrite(tensors);
  }

  /** Reads one .npy array; {@code name} is used in error messages and limit checks. */
  public static Tensor read(InputStream in, String name, TensorLimits limits) throws IOException {
    DataInputStream d = new DataInputStream(in);
    try {
      byte[] magic = new byte[6];
      d.readFully(magic);
      if (!java.util.Arrays.equals(magic, MAGIC)) {
        throw new DecodingException("'" + name + "' is not a .npy array (bad magic)");
      }
      int major = d.readUnsignedByte();
      d.readUnsignedByte();
      long headerLen;
      if (major == 1) {
        headerLen = d.readUnsignedByte() | (d.readUnsignedByte() << 8);
      } else if (major == 2 || major == 3) {
        headerLen = (d.readUnsignedByte() | (d.readUnsignedByte() << 8) | (d.readUnsignedByte() << 16))
            | ((long) d.readUnsignedByte() << 24);
      } else {
        throw new DecodingException("'" + name + "': unsupported .npy version " + major);
      }
      if (headerLen > MAX_HEADER) {
        throw new DecodingException("'" + name + "': .npy header too long");
      }
      byte[] header = new byte[(int) headerLen];
      d.readFully(header);
      String h = new String(header, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
      Map<String, String> dict = parseHeader(h, name);
      String descr = dict.get("descr");
      if (!descr.startsWith("'")) {
        throw new DecodingException("'" + name + "': .npy 'descr' must be a string");
      }
      ElementType type = ElementType.fromNpyDescr(descr.substring(1, descr.length() - 1));
      String fortran = dict.get("fortran_order");
      if (!fortran.equals("True") && !fortran.equals("False")) {
        throw new DecodingException("'" + name + "': .npy 'fortran_order' must be True or False");
      }
      if (fortran.equals("True")) {
        throw new DecodingException("'" + name + "': Fortran-order arrays are not supported; save with C order");
      }
      String shapeText = dict.get("shape");
      if (!shapeText.startsWith("(")) {
        throw new DecodingException("'" + name + "': .npy 'shape' must be a tuple");
      }
      String dims = shapeText.substring(1, shapeText.length() - 1).trim();
      long[] shape = parseShape(dims, name);
      long count;
      try {
        count = Tensor.elementCount(shape);
      } catch (DecodingException e) {
        throw new DecodingException("'" + name + "': " + e.getMessage(), e);
      }
      limits.checkElements(name, count);
      long bytes = count * type.byteSize();
      limits.checkTotal(bytes);
      if (bytes > Integer.MAX_VALUE - 8) {
        throw new DecodingException("'" + name + "' needs " + bytes + " bytes, more than one tensor can hold");
      }
      byte[] data = readUpTo(d, (int) bytes);
      if (data.length != bytes) {
        throw new DecodingException(
            "'" + name + "': .npy data is truncated (" + data.length + " of " + bytes + " bytes)");
      }
      return Tensor.adoptBytes(type, shape, data);
    } catch (EOFException e) {
      throw new DecodingException("'" + name + "': .npy data is truncated", e);
    }
  }

  /** Largest claim an array is allocated for before its bytes have arrived. */
  private static final int EAGER_BYTES = 16 << 20;

  /**
   * Reads up to {@code n} bytes, fewer only at the end of the stream. The bytes go straight into
   * the array that is returned when all arrive; a claim beyond {@link #EAGER_BYTES} is believed
   * only as the bytes arrive (the array doubles), so a short hostile archive cannot make the reader
   * allocate what its header claims.
   */
  private static byte[] readUpTo(InputStream in, int n) throws IOException {
    byte[] buf = new byte[Math.min(n, EAGER_BYTES)];
    int got = 0;
    while (got < n) {
      if (got == buf.length) {
        buf = java.util.Arrays.copyOf(buf, (int) Math.min(n, 2L * buf.length));
      }
      int r = in.read(buf, got, buf.length - got);
      if (r < 0) {
        break;
      }
      got += r;
    }
    return got == buf.length ? buf : java.util.Arrays.copyOf(buf, got);
  }

  private static long[] parseShape(String dims, String name) {
    if (dims.isEmpty()) {
      return new long[0];
    }
    String[] parts = dims.split(",", -1);
    int n = parts.length;
    if (n == 1) {
      // Python's one-element tuple needs its comma: "(3)" is the number 3.
      throw new DecodingException("'" + name + "': malformed shape (" + dims + ")");
    }
    if (parts[n - 1].isBlank()) {
      n--;
    }
    if (n > TensorSpec.MAX_RANK) {
      throw new DecodingException("'" + name + "' has more than " + TensorSpec.MAX_RANK + " axes");
    }
    long[] shape = new long[n];
    for (int i = 0; i < n; i++) {
      String p = parts[i].trim();
      if (p.isEmpty() || p.length() > 18 || !p.chars().allMatch(c -> c >= '0' && c <= '9')) {
        throw new DecodingException("'" + name + "': malformed shape (" + dims + ")");
      }
      shape[i] = Long.parseLong(p);
    }
    return shape;
  }

  /**
   * Parses the header's Python dict literal as NumPy writes it: exactly the keys 'descr',
   * 'fortran_order' and 'shape', each once, separated by commas (a trailing one allowed), followed
   * only by padding. Anything else is refused, so every reader sees the same array.
   */
  private static Map<String, String> parseHeader(String header, String name) {
    String h = header.strip();
    if (!h.startsWith("{") || !h.endsWith("}")) {
      throw new DecodingException("'" + name + "': .npy header is not a dictionary");
    }
    String body = h.substring(1, h.length() - 1);
    Map<String, String> out = new java.util.HashMap<>();
    Matcher m = ENTRY.matcher(body);
    int pos = 0;
    boolean sawComma = true;
    while (!body.substring(pos).isBlank()) {
      m.region(pos, body.length());
      if (!sawComma || !m.lookingAt()) {
        throw new DecodingException("'" + name + "': malformed .npy header near offset " + pos);
      }
      if (!HEADER_KEYS.contains(m.group(1))) {
        throw new DecodingException("'" + name + "': unexpected .npy header key '" + m.group(1) + "'");
      }
      if (out.put(m.group(1), m.group(2)) != null) {
        throw new DecodingException("'" + name + "': .npy header repeats '" + m.group(1) + "'");
      }
      sawComma = !m.group(3).isEmpty();
      pos = m.end();
    }
    for (String key : HEADER_KEYS) {
      if (!out.containsKey(key)) {
        throw new DecodingException("'" + name + "': .npy header lacks a valid '" + key + "'");
      }
    }
    return out;
  }

  public static void write(Tensor t, OutputStream out) throws IOException {
    out.write(header(t));
    out.write(t.data());
  }

  /** The .npy encoding of {@code t}: header and data in one array of exactly their size. */
  public static byte[] toBytes(Tensor t) {
    byte[] header = header(t);
    byte[] data = t.data();
    byte[] out = java.util.Arrays.copyOf(header, header.length + data.length);
    System.arraycopy(data, 0, out, header.length, data.length);
    return out;
  }

  /**
   * The .npy header of {@code t}: magic, version 1.0, header length and the dict literal padded so
   * that the data starts at a multiple of 64 bytes, as NumPy writes it.
   */
  private static byte[] header(Tensor t) {
    String descr = t.type().npyDescr();
    if (descr == null) {
      throw new IllegalArgumentException(t.type().wireName() + " tensors cannot be written as .npy; use JSON");
    }
    long[] dims = t.shape();
    String shape =
        dims.length == 1
            ? "(" + dims[0] + ",)"
            : java.util.Arrays.stream(dims)
                .mapToObj(Long::toString)
                .collect(java.util.stream.Collectors.joining(", ", "(", ")"));
    String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
    int pad = (64 - unpadded % 64) % 64;
    byte[] header = (dict + " ".repeat(pad) + "\n").getBytes(StandardCharsets.ISO_8859_1);
    byte[] out = new byte[MAGIC.length + 4 + header.length];
    System.arraycopy(MAGIC, 0, out, 0, MAGIC.length);
    int at = MAGIC.length;
    out[at++] = 1;
    out[at++] = 0;
    out[at++] = (byte) header.length;
    out[at++] = (byte) (header.length >>> 8);
    System.arraycopy(header, 0, out, at, header.length);
    return out;
  }

  /** Reads a .npz archive: each {@code name.npy} entry becomes the tensor {@code name}. */
  public static NamedTensors readNpz(InputStream in, TensorLimits limits) throws IOException {
    Map<String, Tensor> out = new LinkedHashMap<>();
    long total = 0;
    try (ZipInputStream zip = new ZipInputStream(in)) {
      for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
        String entry = e.getName();
        if (e.isDirectory() || !entry.endsWith(".npy") || entry.contains("/")) {
          throw new DecodingException(".npz entry '" + entry + "' is not a top-level name.npy");
        }
        String name = entry.substring(0, entry.length() - 4);
        if (out.containsKey(name)) {
          throw new DecodingException(".npz holds '" + name + "' twice");
        }
        limits.checkCount(out.size() + 1);
        long remaining = limits.maxTotalBytes() - total + MAX_HEADER;
        BoundedStream entryData = new BoundedStream(zip, remaining, name);
        Tensor t = read(entryData, name, limits);
        // An entry is exactly one array: bytes after it (a bomb's padding, say) are refused
        // rather than inflated and skipped.
        if (entryData.read() != -1) {
          throw new DecodingException(".npz entry '" + entry + "' has data after its array");
        }
        total += t.byteSize();
        limits.checkTotal(total);
        out.put(name, t);
      }
    } catch (java.util.zip.ZipException e) {
      throw new DecodingException("not a valid .npz archive: " + e.getMessage(), e);
    } catch (EOFException e) {
      throw new DecodingException(".npz archive is truncated", e);
    } catch (DecodingException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      // ZipInputStream reports entry names that are not valid UTF-8 this way.
      throw new DecodingException("not a valid .npz archive: " + e.getMessage(), e);
    }
    if (out.isEmpty()) {
      throw new DecodingException(".npz archive holds no arrays");
    }
    return NamedTensors.of(out);
  }

  /**
   * Writes a .npz archive: one {@code name.npy} entry per tensor, in the set's (canonical) order,
   * stored uncompressed as NumPy's {@code savez} does, so writing costs a CRC pass and one copy of
   * each tensor's data into {@code out}, written straight from the tensor. Exactly {@link
   * #npzSize} bytes; the same tensors always give the same bytes (entries carry the fixed time
   * 1980-01-01 00:00). {@code out} is left open.
   *
   * @throws IllegalArgumentException for a string tensor, or an archive beyond the 4 GiB and 65,535
   *     entries of a zip without its 64-bit extension
   */
  public static void writeNpz(NamedTensors tensors, OutputStream out) throws IOException {
    List<ZipRecord> records = layout(tensors);
    ByteArrayOutputStream directory = new ByteArrayOutputStream(64 * records.size() + ZIP_END);
    for (ZipRecord r : records) {
      out.write(r.localHeader());
      out.write(r.npyHeader());
      out.write(r.data());
      r.writeCentralHeader(directory);
    }
    long directoryAt = records.isEmpty() ? 0 : records.getLast().end();
    int directorySize = directory.size();
    le(directory, ZIP_END_SIGNATURE, 4);
    le(directory, 0, 4); // this disk, and the disk where the directory starts
    le(directory, records.size(), 2);
    le(directory, records.size(), 2);
    le(directory, directorySize, 4);
    le(directory, directoryAt, 4);
    le(directory, 0, 2); // no comment
    directory.writeTo(out);
  }

  /** The size in bytes of the archive {@link #writeNpz} writes for {@code tensors}. */
  public static long npzSize(NamedTensors tensors) {
    List<ZipRecord> records = layout(tensors);
    long size = ZIP_END;
    for (ZipRecord r : records) {
      size += r.end() - r.offset() + ZIP_CENTRAL + r.name().length;
    }
    return size;
  }

  /** .npz of {@code tensors} in one array of exactly its size ({@link #writeNpz}). */
  public static byte[] toNpz(NamedTensors tensors) {
    long size = npzSize(tensors);
    if (size > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException("a .npz of " + size + " bytes does not fit in one array; write it to a stream");
    }
    byte[] archive = new byte[(int) size];
    OutputStream into = new OutputStream() {
      private int at;

      @Override
      public void write(int b) {
        archive[at++] = (byte) b;
      }

      @Override
      public void write(byte[] b, int off, int len) {
        System.arraycopy(b, off, archive, at, len);
        at += len;
      }
    };
    try {
      writeNpz(tensors, into);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return archive;
  }

  private static final int ZIP_LOCAL = 30;
  private static final int ZIP_CENTRAL = 46;
  private static final int ZIP_END = 22;
  private static final int ZIP_LOCAL_SIGNATURE = 0x04034b50;
  private static final int ZIP_CENTRAL_SIGNATURE = 0x02014b50;
  private static final int ZIP_END_SIGNATURE = 0x06054b50;
  /** Version 2.0 of the zip format: enough for stored entries. */
  private static final int ZIP_VERSION = 20;
  /** General purpose flag: the entry name is UTF-8. */
  private static final int ZIP_UTF8 = 0x0800;
  /** MS-DOS date of 1980-01-01 (the time field is 0: midnight). */
  private static final int ZIP_DATE = (1 << 5) | 1;

  /** One stored entry: where it starts in the archive, its name, .npy header, data and CRC. */
  private record ZipRecord(long offset, byte[] name, byte[] npyHeader, byte[] data, long crc) {
    long size() {
      return (long) npyHeader.length + data.length;
    }

    long end() {
      return offset + ZIP_LOCAL + name.length + size();
    }

    int flags() {
      for (byte b : name) {
        if (b < 0) {
          return ZIP_UTF8;
        }
      }
      return 0;
    }

    byte[] localHeader() {
      ByteArrayOutputStream h = new ByteArrayOutputStream(ZIP_LOCAL + name.length);
      le(h, ZIP_LOCAL_SIGNATURE, 4);
      le(h, ZIP_VERSION, 2);
      common(h);
      h.writeBytes(name);
      return h.toByteArray();
    }

    void writeCentralHeader(ByteArrayOutputStream h) {
      le(h, ZIP_CENTRAL_SIGNATURE, 4);
      le(h, ZIP_VERSION, 2); // made by
      le(h, ZIP_VERSION, 2); // needed
      common(h);
      le(h, 0, 2); // comment length
      le(h, 0, 2); // disk
      le(h, 0, 2); // internal attributes
      le(h, 0, 4); // external attributes
      le(h, offset, 4);
      h.writeBytes(name);
    }

    /** From the flags to the extra field's length: the same in local and central headers. */
    private void common(ByteArrayOutputStream h) {
      le(h, flags(), 2);
      le(h, 0, 2); // stored
      le(h, 0, 2); // time
      le(h, ZIP_DATE, 2);
      le(h, crc, 4);
      le(h, size(), 4); // compressed
      le(h, size(), 4); // uncompressed
      le(h, name.length, 2);
      le(h, 0, 2); // no extra field
    }
  }

  private static List<ZipRecord> layout(NamedTensors tensors) {
    if (tensors.size() > 0xFFFF) {
      throw new IllegalArgumentException("a .npz holds at most 65535 arrays, not " + tensors.size());
    }
    List<ZipRecord> records = new ArrayList<>(tensors.size());
    long offset = 0;
    for (var e : tensors.asMap().entrySet()) {
      Tensor t = e.getValue();
      if (t.type().npyDescr() == null) {
        throw new IllegalArgumentException(t.type().wireName() + " tensors cannot be written as .npy; use JSON");
      }
      byte[] npyHeader = header(t);
      byte[] data = t.data();
      CRC32 crc = new CRC32();
      crc.update(npyHeader);
      crc.update(data);
      ZipRecord r = new ZipRecord(offset, (e.getKey() + ".npy").getBytes(StandardCharsets.UTF_8), npyHeader, data,
          crc.getValue());
      if (r.size() > 0xFFFFFFFFL || r.end() > 0xFFFFFFFFL) {
        throw new IllegalArgumentException("a .npz of more than 4 GiB needs the zip's 64-bit extension, which Verity does not write");
      }
      records.add(r);
      offset = r.end();
    }
    return records;
  }

  /** Writes the low {@code bytes} bytes of {@code v}, least significant first. */
  private static void le(ByteArrayOutputStream out, long v, int bytes) {
    for (int i = 0; i < bytes; i++) {
      out.write((int) (v >>> (8 * i)));
    }
  }

  /** Refuses to inflate more than a bound, so a tiny zip cannot expand without limit. */
  private static final class BoundedStream extends java.io.FilterInputStream {
    private long left;
    private final String name;

    BoundedStream(InputStream in, long limit, String name) {
      super(in);
      this.left = limit;
      this.name = name;
    }

    @Override
    public int read() throws IOException {
      if (left <= 0) {
        throw new DecodingException("'" + name + "' inflates beyond the request limit");
      }
      int b = super.read();
      if (b >= 0) {
        left--;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (left <= 0) {
        throw new DecodingException("'" + name + "' inflates beyond the request limit");
      }
      int n = super.read(b, off, (int) Math.min(len, left));
      if (n > 0) {
        left -= n;
      }
      return n;
    }

    @Override
    public void close() {
      // the zip stream is closed by its owner
    }
  }
}
