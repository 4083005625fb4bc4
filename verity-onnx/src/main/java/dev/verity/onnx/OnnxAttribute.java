package dev.verity.onnx;

import dev.verity.core.DecodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A named attribute of an ONNX node ({@code kernel_shape}, {@code transB}, {@code axis}, ...).
 * Immutable; arrays are copied in and out. Graph attributes (the bodies of {@code If}, {@code
 * Loop}, {@code Scan}) are parsed into {@link OnnxGraph}s. Sparse-tensor and type-proto attributes
 * are rare; they are kept as their encoded protobuf messages ({@link #opaqueMessages()}) so they
 * survive a read-write round trip.
 */
public final class OnnxAttribute {

  /** The attribute kinds, with ONNX's {@code AttributeProto.AttributeType} codes. */
  public enum Kind {
    FLOAT(1),
    INT(2),
    STRING(3),
    TENSOR(4),
    GRAPH(5),
    FLOATS(6),
    INTS(7),
    STRINGS(8),
    TENSORS(9),
    GRAPHS(10),
    SPARSE_TENSOR(11),
    SPARSE_TENSORS(12),
    TYPE_PROTO(13),
    TYPE_PROTOS(14);

    private final int code;

    Kind(int code) {
      this.code = code;
    }

    public int code() {
      return code;
    }

    /** @throws DecodingException for codes ONNX does not define */
    public static Kind fromCode(long code) {
      for (Kind k : values()) {
        if (k.code == code) {
          return k;
        }
      }
      throw new DecodingException("unknown ONNX attribute type code " + code);
    }
  }

  private final String name;
  private final Kind kind;
  private final Object value;

  private OnnxAttribute(String name, Kind kind, Object value) {
    this.name = Objects.requireNonNull(name, "name");
    this.kind = kind;
    this.value = Objects.requireNonNull(value, "value");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("an attribute needs a non-empty name");
    }
  }

  public static OnnxAttribute ofFloat(String name, float value) {
    return new OnnxAttribute(name, Kind.FLOAT, value);
  }

  public static OnnxAttribute ofInt(String name, long value) {
    return new OnnxAttribute(name, Kind.INT, value);
  }

  /** A string attribute, stored as UTF-8. */
  public static OnnxAttribute ofString(String name, String value) {
    return new OnnxAttribute(name, Kind.STRING, value.getBytes(StandardCharsets.UTF_8));
  }

  /** A string attribute given as raw bytes (ONNX strings are byte strings). */
  public static OnnxAttribute ofBytes(String name, byte[] value) {
    return new OnnxAttribute(name, Kind.STRING, value.clone());
  }

  public static OnnxAttribute ofFloats(String name, float... values) {
    return new OnnxAttribute(name, Kind.FLOATS, values.clone());
  }

  public static OnnxAttribute ofInts(String name, long... values) {
    return new OnnxAttribute(name, Kind.INTS, values.clone());
  }

  public static OnnxAttribute ofStrings(String name, String... values) {
    List<byte[]> list = new ArrayList<>(values.length);
    for (String s : values) {
      list.add(s.getBytes(StandardCharsets.UTF_8));
    }
    return new OnnxAttribute(name, Kind.STRINGS, List.copyOf(list));
  }

  static OnnxAttribute ofByteStrings(String name, List<byte[]> values) {
    return new OnnxAttribute(name, Kind.STRINGS, List.copyOf(values));
  }

  public static OnnxAttribute ofTensor(String name, OnnxTensorData value) {
    return new OnnxAttribute(name, Kind.TENSOR, value);
  }

  public static OnnxAttribute ofGraph(String name, OnnxGraph value) {
    return new OnnxAttribute(name, Kind.GRAPH, value);
  }

  public static OnnxAttribute ofTensors(String name, List<OnnxTensorData> values) {
    return new OnnxAttribute(name, Kind.TENSORS, List.copyOf(values));
  }

  public static OnnxAttribute ofGraphs(String name, List<OnnxGraph> values) {
    return new OnnxAttribute(name, Kind.GRAPHS, List.copyOf(values));
  }

  /** A sparse-tensor or type-proto attribute kept as its encoded messages (read side only). */
  static OnnxAttribute opaque(String name, Kind kind, List<byte[]> messages) {
    if (kind != Kind.SPARSE_TENSOR
        && kind != Kind.SPARSE_TENSORS
        && kind != Kind.TYPE_PROTO
        && kind != Kind.TYPE_PROTOS) {
      throw new IllegalArgumentException(kind + " attributes are not opaque");
    }
    return new OnnxAttribute(name, kind, List.copyOf(messages));
  }

  public String name() {
    return name;
  }

  public Kind kind() {
    return kind;
  }

  public float asFloat() {
    return (Float) value(Kind.FLOAT);
  }

  public long asInt() {
    return (Long) value(Kind.INT);
  }

  /** A STRING attribute decoded as UTF-8 (malformed bytes become U+FFFD). */
  public String asString() {
    return new String((byte[]) value(Kind.STRING), StandardCharsets.UTF_8);
  }

  /** A STRING attribute's bytes (a copy). */
  public byte[] asBytes() {
    return ((byte[]) value(Kind.STRING)).clone();
  }

  public float[] asFloats() {
    return ((float[]) value(Kind.FLOATS)).clone();
  }

  public long[] asInts() {
    return ((long[]) value(Kind.INTS)).clone();
  }

  /** A STRINGS attribute decoded as UTF-8. */
  public List<String> asStrings() {
    return byteStrings().stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList();
  }

  public OnnxTensorData asTensor() {
    return (OnnxTensorData) value(Kind.TENSOR);
  }

  public OnnxGraph asGraph() {
    return (OnnxGraph) value(Kind.GRAPH);
  }

  @SuppressWarnings("unchecked")
  public List<OnnxTensorData> asTensors() {
    return (List<OnnxTensorData>) value(Kind.TENSORS);
  }

  @SuppressWarnings("unchecked")
  public List<OnnxGraph> asGraphs() {
    return (List<OnnxGraph>) value(Kind.GRAPHS);
  }

  /** The encoded protobuf messages of a sparse-tensor or type-proto attribute (copies). */
  @SuppressWarnings("unchecked")
  public List<byte[]> opaqueMessages() {
    if (kind != Kind.SPARSE_TENSOR
        && kind != Kind.SPARSE_TENSORS
        && kind != Kind.TYPE_PROTO
        && kind != Kind.TYPE_PROTOS) {
      throw new IllegalStateException("attribute '" + name + "' is " + kind + ", not opaque");
    }
    return ((List<byte[]>) value).stream().map(byte[]::clone).toList();
  }

  /** Uncopied value for the writer. */
  Object rawValue() {
    return value;
  }

  @SuppressWarnings("unchecked")
  private List<byte[]> byteStrings() {
    return (List<byte[]>) value(Kind.STRINGS);
  }

  private Object value(Kind expected) {
    if (kind != expected) {
      throw new IllegalStateException(
          "attribute '" + name + "' is " + kind + ", not " + expected);
    }
    return value;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof OnnxAttribute a) || !name.equals(a.name) || kind != a.kind) {
      return false;
    }
    return switch (kind) {
      case FLOAT ->
          Float.floatToRawIntBits((Float) value) == Float.floatToRawIntBits((Float) a.value);
      case STRING -> Arrays.equals((byte[]) value, (byte[]) a.value);
      case FLOATS -> rawBitsEqual((float[]) value, (float[]) a.value);
      case INTS -> Arrays.equals((long[]) value, (long[]) a.value);
      case STRINGS, SPARSE_TENSOR, SPARSE_TENSORS, TYPE_PROTO, TYPE_PROTOS ->
          byteListsEqual(value, a.value);
      default -> value.equals(a.value);
    };
  }

  private static boolean rawBitsEqual(float[] x, float[] y) {
    if (x.length != y.length) {
      return false;
    }
    for (int i = 0; i < x.length; i++) {
      if (Float.floatToRawIntBits(x[i]) != Float.floatToRawIntBits(y[i])) {
        return false;
      }
    }
    return true;
  }

  @SuppressWarnings("unchecked")
  private static boolean byteListsEqual(Object x, Object y) {
    List<byte[]> a = (List<byte[]>) x;
    List<byte[]> b = (List<byte[]>) y;
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (!Arrays.equals(a.get(i), b.get(i))) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int hashCode() {
    int h = name.hashCode() * 31 + kind.hashCode();
    return switch (kind) {
      case STRING -> h * 31 + Arrays.hashCode((byte[]) value);
      case FLOATS -> h * 31 + Arrays.hashCode((float[]) value);
      case INTS -> h * 31 + Arrays.hashCode((long[]) value);
      case STRINGS, SPARSE_TENSOR, SPARSE_TENSORS, TYPE_PROTO, TYPE_PROTOS -> h;
      default -> h * 31 + value.hashCode();
    };
  }

  @Override
  public String toString() {
    String v =
        switch (kind) {
          case STRING -> '"' + asString() + '"';
          case FLOATS -> Arrays.toString((float[]) value);
          case INTS -> Arrays.toString((long[]) value);
          case STRINGS -> asStrings().toString();
          case GRAPH -> "<graph>";
          case GRAPHS -> "<" + asGraphs().size() + " graphs>";
          case SPARSE_TENSOR, SPARSE_TENSORS, TYPE_PROTO, TYPE_PROTOS -> "<" + kind + ">";
          default -> String.valueOf(value);
        };
    return name + "=" + v;
  }
}
