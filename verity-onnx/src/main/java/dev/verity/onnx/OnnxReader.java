package dev.verity.onnx;

import static dev.verity.onnx.ProtoReader.FIXED32;
import static dev.verity.onnx.ProtoReader.FIXED64;
import static dev.verity.onnx.ProtoReader.LEN;
import static dev.verity.onnx.ProtoReader.VARINT;
import static dev.verity.onnx.ProtoReader.fieldOf;
import static dev.verity.onnx.ProtoReader.wireTypeOf;

import dev.verity.core.DecodingException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * Reads ONNX model files (protobuf {@code ModelProto}) without native code.
 *
 * <p>{@link #read(byte[])} decodes a whole model, weights included. {@link #readInfo(Path)} reads
 * a file of any size up to the 2 GiB protobuf limit through a memory map and decodes everything but
 * the weight payloads, which it only measures, so its heap use does not grow with the weights.
 *
 * <p>Both validate as they go and throw {@link DecodingException}, naming what is wrong and where,
 * for anything that is not a well-formed, self-contained ONNX model: bytes that are not protobuf,
 * truncated data, a missing graph, a graph without outputs, negative or absurdly large dimensions,
 * tensors whose data does not match their shape, weights stored in external files, subgraphs
 * nested too deeply. Hostile input never makes them throw anything else, run out of memory beyond
 * the bounds set by {@link Limits}, or loop.
 */
public final class OnnxReader {

  /**
   * Bounds on what a reader accepts.
   *
   * @param maxTensorElements most elements in one tensor or one declared fixed shape
   * @param maxGraphDepth deepest nesting of subgraphs (control-flow bodies) below the main graph
   * @param maxRank most dimensions of one tensor or value
   * @param maxItems most decoded items (nodes, attributes, names, dims, list entries) in one model,
   *     which bounds the memory the decoded structure takes
   */
  public record Limits(long maxTensorElements, int maxGraphDepth, int maxRank, long maxItems) {
    /** 2^31 elements per tensor, 16 levels of subgraphs, rank 64, 2 million items. */
    public static final Limits DEFAULT = new Limits(1L << 31, 16, 64, 2_000_000);

    public Limits {
      if (maxTensorElements < 1 || maxGraphDepth < 0 || maxRank < 1 || maxItems < 1) {
        throw new IllegalArgumentException("limits must be positive");
      }
    }
  }

  private final Limits limits;
  private final boolean loadData;
  private long items;

  private OnnxReader(Limits limits, boolean loadData) {
    this.limits = limits;
    this.loadData = loadData;
  }

  /** Decodes a complete model with {@link Limits#DEFAULT}. */
  public static OnnxModel read(byte[] bytes) {
    return read(bytes, Limits.DEFAULT);
  }

  /** Decodes a complete model, weights included. */
  public static OnnxModel read(byte[] bytes, Limits limits) {
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    return new OnnxReader(limits, true).parseModel(buf).model;
  }

  /** Summarizes a model file with {@link Limits#DEFAULT}; see {@link #readInfo(Path, Limits)}. */
  public static OnnxModelInfo readInfo(Path file) throws IOException {
    return readInfo(file, Limits.DEFAULT);
  }

  /**
   * Summarizes a model file without loading its weights into the heap.
   *
   * @throws IOException if the file cannot be read
   * @throws DecodingException if it is not a valid, self-contained ONNX model
   */
  public static OnnxModelInfo readInfo(Path file, Limits limits) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size > Integer.MAX_VALUE) {
        throw new DecodingException(
            "the file has " + size + " bytes, but protobuf, and so ONNX, limits a model file to 2"
                + " GiB; larger models keep weights in external files, which Verity does not"
                + " support");
      }
      MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
      return new OnnxReader(limits, false).parseModel(map).info;
    }
  }

  /** Summarizes an in-memory model the same way as {@link #readInfo(Path)}. */
  public static OnnxModelInfo readInfo(byte[] bytes) {
    return new OnnxReader(Limits.DEFAULT, false).parseModel(ByteBuffer.wrap(bytes)).info;
  }

  // ---------------------------------------------------------------- model

  private record Parsed(OnnxModel model, OnnxModelInfo info) {}

  private Parsed parseModel(ByteBuffer buf) {
    int size = buf.limit();
    if (size == 0) {
      throw new DecodingException("not an ONNX model: the input is empty");
    }
    try {
      return parseModelProto(new ProtoReader(buf, 0, size), size);
    } catch (DecodingException e) {
      throw new DecodingException("not a valid ONNX model: " + e.getMessage(), e);
    }
  }

  private Parsed parseModelProto(ProtoReader r, int size) {
    Long irVersion = null;
    Map<String, Long> opsets = new LinkedHashMap<>();
    String producerName = "";
    String producerVersion = "";
    String domain = "";
    long modelVersion = 0;
    String doc = "";
    Map<String, String> metadata = new LinkedHashMap<>();
    OnnxGraph graph = null;
    GraphScan scan = null;
    boolean sawGraph = false;
    while (!r.atEnd()) {
      int tag = r.readTag();
      switch (fieldOf(tag)) {
        case 1 -> {
          r.expect(tag, VARINT, "ModelProto.ir_version");
          irVersion = r.readVarint();
        }
        case 2 -> {
          r.expect(tag, LEN, "ModelProto.producer_name");
          producerName = r.readString("producer_name");
        }
        case 3 -> {
          r.expect(tag, LEN, "ModelProto.producer_version");
          producerVersion = r.readString("producer_version");
        }
        case 4 -> {
          r.expect(tag, LEN, "ModelProto.domain");
          domain = r.readString("model domain");
        }
        case 5 -> {
          r.expect(tag, VARINT, "ModelProto.model_version");
          modelVersion = r.readVarint();
        }
        case 6 -> {
          r.expect(tag, LEN, "ModelProto.doc_string");
          doc = loadData ? r.readString("doc_string") : skipLen(r);
        }
        case 7 -> {
          r.expect(tag, LEN, "ModelProto.graph");
          if (sawGraph) {
            throw r.error("the model has more than one main graph");
          }
          sawGraph = true;
          if (loadData) {
            graph = parseGraph(r.readMessage(), 0);
          } else {
            scan = scanGraph(r.readMessage(), 0, new TreeSet<>());
          }
        }
        case 8 -> {
          r.expect(tag, LEN, "ModelProto.opset_import");
          parseOpset(r.readMessage(), opsets);
        }
        case 14 -> {
          r.expect(tag, LEN, "ModelProto.metadata_props");
          ProtoReader m = r.readMessage();
          String[] kv = parseStringEntry(m, "metadata property");
          if (metadata.put(kv[0], kv[1]) != null) {
            throw m.error("metadata property '" + kv[0] + "' appears twice");
          }
          count(1);
        }
        default -> r.skip(wireTypeOf(tag));
      }
    }
    if (!sawGraph) {
      throw new DecodingException(
          "the input has no graph (ModelProto field 7); it is not an ONNX model, or it is"
              + " truncated");
    }
    if (irVersion == null) {
      throw new DecodingException("the model has no ir_version (ModelProto field 1)");
    }
    long ir = irVersion;
    String pn = producerName;
    String pv = producerVersion;
    if (loadData) {
      OnnxGraph g = graph;
      String d = domain;
      long mv = modelVersion;
      String ds = doc;
      OnnxModel model =
          validated(() -> new OnnxModel(ir, opsets, pn, pv, d, mv, ds, g, metadata));
      return new Parsed(model, null);
    }
    if (ir < 1) {
      throw new DecodingException("IR version must be positive, got " + ir);
    }
    if (opsets.isEmpty()) {
      throw new DecodingException(
          "the model imports no operator set; every ONNX model needs at least one opset_import");
    }
    if (scan.outputs.isEmpty()) {
      throw new DecodingException(
          "the main graph has no outputs; a model must declare at least one output");
    }
    GraphScan s = scan;
    OnnxModelInfo info =
        validated(
            () ->
                new OnnxModelInfo(ir, opsets, pn, pv, s.realInputs(), s.outputs, s.opTypes,
                    s.nodeCount, s.parameterCount, size));
    return new Parsed(null, info);
  }

  private void parseOpset(ProtoReader r, Map<String, Long> opsets) {
    String domain = "";
    long version = 0;
    boolean hasVersion = false;
    while (!r.atEnd()) {
      int tag = r.readTag();
      switch (fieldOf(tag)) {
        case 1 -> {
          r.expect(tag, LEN, "OperatorSetIdProto.domain");
          domain = r.readString("opset domain");
        }
        case 2 -> {
          r.expect(tag, VARINT, "OperatorSetIdProto.version");
          version = r.readVarint();
          hasVersion = true;
        }
        default -> r.skip(wireTypeOf(tag));
      }
    }
    if (!hasVersion || version < 1) {
      throw r.error("operator set '" + domain + "' has no valid version (got " + version + ")");
    }
    if (opsets.put(domain, version) != null) {
      throw r.error("operator set '" + domain + "' is imported twice");
    }
    count(1);
  }

  private static String[] parseStringEntry(ProtoReader r, String what) {
    String key = "";
    String value = "";
    while (!r.atEnd()) {
      int tag = r.readTag();
      switch (fieldOf(tag)) {
        case 1 -> {
          r.expect(tag, LEN, what + " key");
          key = r.readString(what + " key");
        }
        case 2 -> {
          r.expect(tag, LEN, what + " value");
          value = r.readString(what + " value");
        }
        default -> r.skip(wireTypeOf(tag));
      }
    }
    return new String[] {key, value};
  }

  // ---------------------------------------------------------------- graphs (full)

  private OnnxGraph parseGraph(ProtoReader r, int depth) {
    checkDepth(r, depth);
    count(1);
    String name = "";
    List<OnnxNode> nodes = new ArrayList<>();
    List<OnnxTensorData> initializers = new ArrayList<>();
    List<OnnxValueInfo> inputs = new ArrayList<>();
    List<OnnxValueInfo> outputs = new ArrayList<>();
    List<OnnxValueInfo> valueInfo = new ArrayList<>();
    while (!r.atEnd()) {
      int tag = r.readTag();
      switch (fieldOf(tag)) {
        case 1 -> {
          r.expect(tag, LEN, "GraphProto.node");
          nodes.add(parseNode(r.readMessage(), depth));
        }
        case 2 -> {
          r.expect(tag, LEN, "GraphProto.name");
          name = r.readString("graph name");
        }
        case 5 -> {
          r.expect(tag, LEN, "GraphProto.initializer");
          ProtoReader t = r.readMessage();
          initializers.add(decodeTensor(t, parseTensorHeader(t, "initializer")));
        }
        case 11 -> inputs.add(graphValue(r, tag, "input"));
        case 12 -> outputs.add(graphValue(r, tag, "output"));
        case 13 -> {
          r.expect(tag, LEN, "GraphProto.value_info");
          ValueType v = parseValueInfo(r.readMessage(), "value_info");
          if (v.isTensor()) {
            valueInfo.add(v.info());
          }
        }
        case 15 -> throw sparseUnsupported(r);
        default -> r.skip(wireTypeOf(tag));
      }
    }
    String n = name;
    return validated(() -> new OnnxGraph(n, nodes, initializers, inputs, outputs, valueInfo));
  }

  private static DecodingException sparseUnsupported(ProtoReader r) {
    return r.error(
        "the graph has sparse initializers, which Verity does not support; store the weights as"
            + " dense tensors");
  }

  private void checkDepth(ProtoReader r, int depth) {
    if (depth > limits.maxGraphDepth()) {
      throw r.error(
          "subgraphs are nested more than " + limits.maxGraphDepth() + " levels deep");
    }
  }

  private OnnxValueInfo graphValue(ProtoReader r, int tag, String what) {
    r.expect(tag, LEN, "GraphProto." + what);
    ProtoReader m = r.readMessage();
    ValueType v = parseValueInfo(m, "graph " + what);
    if (v.nonTensorKind != null) {
      throw m.error(
          "graph " + what + " '" + v.name + "' is a " + v.nonTensorKind
              + "; Verity handles tensor inputs and outputs only");
    }
    if (v.type == null) {
      throw m.error("graph " + what + " '" + v.name + "' declares no tensor element type");
    }
    return v.info();
  }

  private OnnxNode parseNode(ProtoReader r, int depth) {
    count(1);
    List<String> inputs = new ArrayList<>();
    List<String> outputs = new ArrayList<>();
    String name = "";
    String opType = "";
    String domain = "";
    List<OnnxAttribute> attributes = new ArrayList<>();
    while (!r.atEnd()) {
      int tag = r.readTag();
      switch (fieldOf(tag)) {
        case 1 -> {
          r.expect(tag, LEN, "NodeProto.input");
          inputs.add(r.readString("node input name"));
          count(1);
        }
        case 2 -> {
          r.expect(tag, LEN, "NodeProto.output");
          outputs.add(r.readString("node output name"));
          count(1);
        }
        case 3 -> {
          r.expect(tag, LEN, "NodeProto.name");
          name = r.readString("node name");
        }
        case 4 -> {
          r.expect(tag, LEN, "NodeProto.op_type");
          opType = r.readString("op_type");
        }
        case 7 -> {
          r.expect(tag, LEN, "NodeProto.domain");
          domain = r.readString("node domain");
        }
        case 5 -> {
          r.expect(tag, LEN, "NodeProto.attribute");
          attributes.add(parseAttribute(r.readMessage(), depth));
        }
        default -> r.skip(wireTypeOf(tag));
      }
    }
    String n = name;
    String op = opType;
    String d = domain;
    return validated(() -> new OnnxNode(n, op, d, inputs, outputs, attributes));
  }

  private OnnxAttribute parseAttribute(ProtoReader r, int depth) {
    count(1);
    String name = "";
    long typeCode = 0;
    Float f = null;
    Long i = null;
    byte[] s = null;
    OnnxTensorData t = null;
    OnnxGraph g = null;
    Floats floats = new Floats();
    Longs ints = new Longs();
    List<byte[]> strings = new ArrayList<>();
    List<OnnxTensorData> tensors = new ArrayList<>();
    List<OnnxGraph> graphs = new ArrayList<>();
    List<byte[]> sparse = new ArrayList<>();
    List<byte[]> sparseList = new ArrayList<>();
    List<byte[]> typeProto = new ArrayList<>();
    List<byte[]> typeProtos = new ArrayList<>();
    Set<OnnxAttribute.Kind> present = EnumSet.noneOf(OnnxAttribute.Kind.class);
    while (!r.atEnd()) {
      int tag = r.readTag();
      OnnxAttribute.Kind fieldKind = kindOfField(fieldOf(tag));
      if (fieldKind != null) {
        present.add(fieldKind);
      }
      switch (fieldOf(tag)) {
        case 1 -> {
          r.expect(tag, LEN, "AttributeProto.name");
          name = r.readString("attribute name");
        }
        case 20 -> {
          r.expect(tag, VARINT, "AttributeProto.type");
          typeCode = r.readVarint();
        }
        case 21 -> {
          r.expect(tag, LEN, "AttributeProto.ref_attr_name");
          if (!r.readString("ref_attr_name").isEmpty()) {
            throw r.error(
                "attribute '" + name + "' refers to a function attribute, which is only valid"
                    + " inside ONNX functions");
          }
        }
        case 2 -> {
          r.expect(tag, FIXED32, "AttributeProto.f");
          f = Float.intBitsToFloat(r.readFixed32());
        }
        case 3 -> {
          r.expect(tag, VARINT, "AttributeProto.i");
          i = r.readVarint();
        }
        case 4 -> {
          r.expect(tag, LEN, "AttributeProto.s");
          s = r.readBytes();
        }
        case 5 -> {
          r.expect(tag, LEN, "AttributeProto.t");
          ProtoReader m = r.readMessage();
          t = decodeTensor(m, parseTensorHeader(m, "attribute tensor"));
        }
        case 6 -> {
          r.expect(tag, LEN, "AttributeProto.g");
          g = parseGraph(r.readMessage(), depth + 1);
        }
        case 7 -> readFloats(r, tag, floats);
        case 8 -> {
          readVarints(r, tag, ints, "AttributeProto.ints", Long.MAX_VALUE, "");
        }
        case 9 -> {
          r.expect(tag, LEN, "AttributeProto.strings");
          strings.add(r.readBytes());
          count(1);
        }
        case 10 -> {
          r.expect(tag, LEN, "AttributeProto.tensors");
          ProtoReader m = r.readMessage();
          tensors.add(decodeTensor(m, parseTensorHeader(m, "attribute tensor")));
        }
        case 11 -> {
          r.expect(tag, LEN, "AttributeProto.graphs");
          graphs.add(parseGraph(r.readMessage(), depth + 1));
        }
        case 22 -> opaque(r, tag, sparse, "AttributeProto.sparse_tensor");
        case 23 -> opaque(r, tag, sparseList, "AttributeProto.sparse_tensors");
        case 14 -> opaque(r, tag, typeProto, "AttributeProto.tp");
        case 15 -> opaque(r, tag, typeProtos, "AttributeProto.type_protos");
        default -> r.skip(wireTypeOf(tag));
      }
    }
    OnnxAttribute.Kind kind;
    if (typeCode != 0) {
      kind = OnnxAttribute.Kind.fromCode(typeCode);
    } else {
      kind = inferKind(r, name, present);
    }
    String n = name;
    String where = "attribute '" + name + "' of type " + kind;
    Float fv = f;
    Long iv = i;
    byte[] sv = s;
    OnnxTensorData tv = t;
    OnnxGraph gv = g;
    return validated(
        () ->
            switch (kind) {
              case FLOAT -> OnnxAttribute.ofFloat(n, fv == null ? 0f : fv);
              case INT -> OnnxAttribute.ofInt(n, iv == null ? 0L : iv);
              case STRING -> OnnxAttribute.ofBytes(n, sv == null ? new byte[0] : sv);
              case TENSOR -> OnnxAttribute.ofTensor(n, present(tv, where));
              case GRAPH -> OnnxAttribute.ofGraph(n, present(gv, where));
              case FLOATS -> OnnxAttribute.ofFloats(n, floats.toArray());
              case INTS -> OnnxAttribute.ofInts(n, ints.toArray());
              case STRINGS -> OnnxAttribute.ofByteStrings(n, strings);
              case TENSORS -> OnnxAttribute.ofTensors(n, tensors);
              case GRAPHS -> OnnxAttribute.ofGraphs(n, graphs);
              case SPARSE_TENSOR -> OnnxAttribute.opaque(n, kind, single(sparse, where));
              case SPARSE_TENSORS -> OnnxAttribute.opaque(n, kind, sparseList);
              case TYPE_PROTO -> OnnxAttribute.opaque(n, kind, single(typeProto, where));
              case TYPE_PROTOS -> OnnxAttribute.opaque(n, kind, typeProtos);
            });
  }

  private static <T> T present(T value, String where) {
    if (value == null) {
      throw new DecodingException(where + " has no value");
    }
    return value;
  }

  private static List<byte[]> single(List<byte[]> values, String where) {
    if (values.isEmpty()) {
      throw new DecodingException(where + " has no value");
    }
    return List.of(values.get(values.size() - 1));
  }

  /** For files older than IR version 2, which name no attribute type: use the one field present. */
  private static OnnxAttribute.Kind inferKind(
      ProtoReader r, String name, Set<OnnxAttribute.Kind> present) {
    if (present.size() != 1) {
      throw r.error(
          "attribute '" + name + "' names no type and has "
              + (present.isEmpty() ? "no value" : "values of several types " + present));
    }
    return present.iterator().next();
  }

  /** The attribute kind whose value an AttributeProto field number holds, or null. */
  private static OnnxAttribute.Kind kindOfField(int field) {
    return switch (field) {
      case 2 -> OnnxAttribute.Kind.FLOAT;
      case 3 -> OnnxAttribute.Kind.INT;
      case 4 -> OnnxAttribute.Kind.STRING;
      case 5 -> OnnxAttribute.Kind.TENSOR;
      case 6 -> OnnxAttribute.Kind.GRAPH;
      case 7 -> OnnxAttribute.Kind.FLOATS;
      case 8 -> OnnxAttribute.Kind.INTS;
      case 9 -> OnnxAttribute.Kind.STRINGS;
      case 10 -> OnnxAttribute.Kind.TENSORS;
      case 11 -> OnnxAttribute.Kind.GRAPHS;
      case 14 -> OnnxAttribute.Kind.TYPE_PROTO;
      case 15 -> OnnxAttribute.Kind.TYPE_PROTOS;
      case 22 -> OnnxAttribute.Kind.SPARSE_TENSOR;
      case 23 -> OnnxAttribute.Kind.SPARSE_TENSORS;
      default -> null;
    };
  }

  private void opaque(ProtoReader r, int tag, List<byte[]> into, String field) {
    r.expect(tag, LEN, field);
    into.add(r.readBytes());
    count(1);
  }

  private void readFloats(ProtoReader r, int tag, Floats into) {
    if (wireTypeOf(tag) == FIXED32) {
      count(1);
      into.add(Float.intBitsToFloat(r.readFixed32()));
      return;
    }
    r.expect(tag, LEN, "AttributeProto.floats");
    ProtoReader packed = r.readMessage();
    int length = packed.end() - packed.position();
    if (length % 4 != 0) {
      throw packed.error("packed floats field has a length that is not a multiple of 4");
    }
    count(length / 4);
    while (!packed.atEnd()) {
      into.add(Float.intBitsToFloat(packed.readFixed32()));
    }
  }

  /** Reads one occurrence of a repeated int64 field, packed or not, keeping at most max in all. */
  private void readVarints(ProtoReader r, int tag, Longs into, String field, long max,
      String what) {
    if (wireTypeOf(tag) == VARINT) {
      if (into.size >= max) {
        throw r.error(what + " has more than " + max + " dimensions");
      }
      count(1);
      into.add(r.readVarint());
      return;
    }
    r.expect(tag, LEN, field);
    ProtoReader packed = r.readMessage();
    long n = packed.countPackedVarints(packed.position(), packed.end() - packed.position());
    if (into.size + n > max) {
      throw r.error(what + " has more than " + max + " dimensions");
    }
    count(n);
    while (!packed.atEnd()) {
      into.add(packed.readVarint());
    }
  }

  // ---------------------------------------------------------------- value info

  /** A parsed ValueInfoProto: tensor type, or the name of another kind, or no type at all. */
  private record ValueType(
      String name, ElementType type, List<Dim> dims, boolean rankKnown, String nonTensorKind) {
    boolean isTensor() {
      return type != null && nonTensorKind == null;
    }

    OnnxValueInfo info() {
      return new OnnxValueInfo(name, type, dims, rankKnown);
    }
  }

  private ValueType parseValueInfo(ProtoReader r, String what) {
    count(1);
    String name = "";
    ValueType type = new ValueType("", null, List.of(), false, null);
    while (!r.atEnd()) {
      int tag = r.readTag();
      switch (fieldOf(tag)) {
        case 1 -> {
          r.expect(tag, LEN, "ValueInfoProto.name");
          name = r.readString(what + " name");
        }
        case 2 -> {
          r.expect(tag, LEN, "ValueInfoProto.type");
          type = parseType(r.readMessage(), what);
        }
        default -> r.skip(wireTypeOf(tag));
      }
    }
    if (name.isEmpty()) {
      throw r.error(what + " has no name");
    }
    ValueType v = new ValueType(name, type.type, type.dims, type.rankKnown, type.nonTensorKind);
    if (v.isTensor()) {
      checkShape(r, what + " '" + name + "'", v.dims);
    }
    return v;
  }

  private ValueType parseType(ProtoReader r, String what) {
    ValueType result = new ValueType("", null, List.of(), false, null);
    while (!r.atEnd()) {
      int tag = r.readTag();
      switch (fieldOf(tag)) {
        case 1 -> {
          r.expect(tag, LEN, "TypeProto.tensor_type");
          result = parseTensorType(r.readMessage(), what);
        }
        case 4 -> result = nonTensor(r, tag, "sequence");
        case 5 -> result = nonTensor(r, tag, "map");
        case 7 -> result = nonTensor(r, tag, "opaque value");
        case 8 -> result = nonTensor(r, tag, "sparse tensor");
        case 9 -> result = nonTensor(r, tag, "optional value");
        default -> r.skip(wireTypeOf(tag));
      }
    }
    return result;
  }

  private static ValueType nonTensor(ProtoReader r, int tag, String kind) {
    r.expect(tag, LEN, "TypeProto");
    r.skip(LEN);
    return new ValueType("", null, List.of(), false, kind);
  }

  private ValueType parseTensorType(ProtoReader r, String what) {
    ElementType type = null;
    List<Dim> dims = List.of();
    boolean rankKnown = false;
    while (!r.atEnd()) {
      int tag = r.readTag();
      switch (fieldOf(tag)) {
        case 1 -> {
          r.expect(tag, VARINT, "TypeProto.Tensor.elem_type");
          long code = r.readVarint();
          type = code == 0 ? null : elementType(r, code, what);
        }
        case 2 -> {
          r.expect(tag, LEN, "TypeProto.Tensor.shape");
          dims = parseShape(r.readMessage(), what);
          rankKnown = true;
        }
        default -> r.skip(wireTypeOf(tag));
      }
    }
    return new ValueType("", type, dims, rankKnown, null);
  }

  private static ElementType elementType(ProtoReader r, long code, String what) {
    try {
      return ElementType.fromCode(code);
    } catch (DecodingException e) {
      throw r.error(what + ": " + e.getMessage());
    }
  }

  private List<Dim> parseShape(ProtoReader r, String what) {
    List<Dim> dims = new ArrayList<>();
    while (!r.atEnd()) {
      int tag = r.readTag();
      if (fieldOf(tag) != 1) {
        r.skip(wireTypeOf(tag));
        continue;
      }
      r.expect(tag, LEN, "TensorShapeProto.dim");
      if (dims.size() >= limits.maxRank()) {
        throw r.error(what + " has more than " + limits.maxRank() + " dimensions");
      }
      count(1);
      ProtoReader d = r.readMessage();
      Dim dim = Dim.unknown();
      while (!d.atEnd()) {
        int t = d.readTag();
        switch (fieldOf(t)) {
          case 1 -> {
            d.expect(t, VARINT, "Dimension.dim_value");
            long v = d.readVarint();
            if (v < 0) {
              throw d.error(what + " has negative dimension " + v);
            }
            dim = Dim.of(v);
          }
          case 2 -> {
            d.expect(t, LEN, "Dimension.dim_param");
            String p = d.readString("dim_param");
            dim = p.isEmpty() ? Dim.unknown() : Dim.symbolic(p);
          }
          default -> d.skip(wireTypeOf(t));
        }
      }
      dims.add(dim);
    }
    return dims;
  }

  /** Rejects declared shapes whose fixed dimensions alone exceed the element limit. */
  private void checkShape(ProtoReader r, String what, List<Dim> dims) {
    long n = 1;
    for (Dim d : dims) {
      if (d instanceof Dim.Fixed f) {
        n = multiplyCapped(n, f.size());
      }
    }
    if (n > limits.maxTensorElements()) {
      throw r.error(
          what + " declares a shape " + dims + " of more than " + limits.maxTensorElements()
              + " elements");
    }
  }

  private static long multiplyCapped(long a, long b) {
    long hi = Math.multiplyHigh(a, b);
    long lo = a * b;
    return (hi != 0 || lo < 0) ? Long.MAX_VALUE : lo;
  }

  // ---------------------------------------------------------------- tensors

  private enum Source {
    NONE("no data"),
    RAW("raw_data"),
    FLOAT_DATA("float_data"),
    INT32_DATA("int32_data"),
    STRING_DATA("string_data"),
    INT64_DATA("int64_data"),
    DOUBLE_DATA("double_data"),
    UINT64_DATA("uint64_data");

    final String field;

    Source(String field) {
      this.field = field;
    }
  }

  /** What one pass over a TensorProto learns: everything but the decoded payload. */
  private record TensorHeader(
      String name, ElementType type, long[] dims, long elementCount, Source source,
      long rawLength, int rawOffset, int messageStart, int messageEnd) {}

  private TensorHeader parseTensorHeader(ProtoReader r, String what) {
    count(1);
    int start = r.position();
    String name = "";
    Long typeCode = null;
    Longs dims = new Longs();
    Source source = Source.NONE;
    long entries = 0;
    int rawOffset = -1;
    long rawLength = 0;
    boolean external = false;
    String location = "";
    while (!r.atEnd()) {
      int tag = r.readTag();
      int field = fieldOf(tag);
      switch (field) {
        case 1 -> {
          readVarints(r, tag, dims, "TensorProto.dims", limits.maxRank(), what);
        }
        case 2 -> {
          r.expect(tag, VARINT, "TensorProto.data_type");
          typeCode = r.readVarint();
        }
        case 3 -> throw r.error(
            what + " is stored in segments, which Verity does not support");
        case 8 -> {
          r.expect(tag, LEN, "TensorProto.name");
          name = r.readString("tensor name");
        }
        case 9 -> {
          r.expect(tag, LEN, "TensorProto.raw_data");
          source = source(r, source, Source.RAW, name);
          int n = r.readLength();
          rawOffset = r.position();
          rawLength = n;
          r.skipBytes(n);
        }
        case 13 -> {
          r.expect(tag, LEN, "TensorProto.external_data");
          external = true;
          String[] kv = parseStringEntry(r.readMessage(), "external_data");
          if (kv[0].equals("location")) {
            location = kv[1];
          }
        }
        case 14 -> {
          r.expect(tag, VARINT, "TensorProto.data_location");
          external |= r.readVarint() == 1;
        }
        case 4, 5, 6, 7, 10, 11 -> {
          Source s =
              switch (field) {
                case 4 -> Source.FLOAT_DATA;
                case 5 -> Source.INT32_DATA;
                case 6 -> Source.STRING_DATA;
                case 7 -> Source.INT64_DATA;
                case 10 -> Source.DOUBLE_DATA;
                default -> Source.UINT64_DATA;
              };
          source = source(r, source, s, name);
          entries += countEntries(r, tag, s);
        }
        default -> r.skip(wireTypeOf(tag));
      }
    }
    String label = what + " '" + name + "'";
    if (external) {
      throw r.error(
          label + " keeps its data in an external file"
              + (location.isEmpty() ? "" : " ('" + location + "')")
              + ", which Verity does not support; save the model with all weights inside the"
              + " .onnx file");
    }
    if (typeCode == null) {
      throw r.error(label + " has no data_type");
    }
    ElementType type = elementType(r, typeCode, label);
    long[] shape = dims.toArray();
    long count = 1;
    for (long d : shape) {
      if (d < 0) {
        throw r.error(label + " has negative dimension " + d + " in " + Arrays.toString(shape));
      }
      count = multiplyCapped(count, d);
    }
    if (count > limits.maxTensorElements()) {
      throw r.error(
          label + " has dims " + Arrays.toString(shape) + ", more than "
              + limits.maxTensorElements() + " elements");
    }
    checkData(r, label, type, shape, count, source, entries, rawLength);
    return new TensorHeader(name, type, shape, count, source, rawLength, rawOffset, start,
        r.end());
  }

  private static Source source(ProtoReader r, Source current, Source next, String name) {
    if (current != Source.NONE && current != next) {
      throw r.error(
          "tensor '" + name + "' stores data in both " + current.field + " and " + next.field);
    }
    return next;
  }

  /** Entries of a typed data field occurrence, packed or not, without decoding them. */
  private static long countEntries(ProtoReader r, int tag, Source s) {
    int wt = wireTypeOf(tag);
    int unpacked =
        switch (s) {
          case FLOAT_DATA -> FIXED32;
          case DOUBLE_DATA -> FIXED64;
          case STRING_DATA -> LEN;
          default -> VARINT;
        };
    if (s == Source.STRING_DATA) {
      r.expect(tag, LEN, "TensorProto.string_data");
      r.skip(LEN);
      return 1;
    }
    if (wt == unpacked) {
      r.skip(wt);
      return 1;
    }
    r.expect(tag, LEN, "TensorProto." + s.field);
    int n = r.readLength();
    int offset = r.position();
    r.skipBytes(n);
    return switch (s) {
      case FLOAT_DATA -> fixedCount(r, n, 4, s);
      case DOUBLE_DATA -> fixedCount(r, n, 8, s);
      default -> r.countPackedVarints(offset, n);
    };
  }

  private static long fixedCount(ProtoReader r, int length, int width, Source s) {
    if (length % width != 0) {
      throw r.error("packed " + s.field + " has " + length + " bytes, not a multiple of " + width);
    }
    return length / width;
  }

  private static void checkData(
      ProtoReader r, String label, ElementType type, long[] dims, long count, Source source,
      long entries, long rawLength) {
    String shape = type + Arrays.toString(dims);
    if (source == Source.NONE) {
      if (count != 0) {
        throw r.error(label + " has shape " + shape + " (" + count + " elements) but no data");
      }
      return;
    }
    if (source == Source.RAW) {
      if (!type.isFixedWidth()) {
        throw r.error(label + ": STRING tensors cannot use raw_data");
      }
      long need = type.rawByteLength(count);
      if (rawLength != need) {
        throw r.error(
            label + " has shape " + shape + ", which needs " + need + " bytes of raw_data, but"
                + " has " + rawLength);
      }
      return;
    }
    long need =
        switch (source) {
          case FLOAT_DATA -> type == ElementType.FLOAT ? count
              : type == ElementType.COMPLEX64 ? 2 * count : -1;
          case DOUBLE_DATA -> type == ElementType.DOUBLE ? count
              : type == ElementType.COMPLEX128 ? 2 * count : -1;
          case INT64_DATA -> type == ElementType.INT64 ? count : -1;
          case UINT64_DATA ->
              type == ElementType.UINT32 || type == ElementType.UINT64 ? count : -1;
          case STRING_DATA -> type == ElementType.STRING ? count : -1;
          case INT32_DATA -> int32Entries(type, count);
          default -> -1;
        };
    if (need < 0) {
      throw r.error(label + " stores " + type + " elements in " + source.field
          + ", which ONNX does not allow for that type");
    }
    if (entries != need) {
      throw r.error(
          label + " has shape " + shape + ", which needs " + need + " " + source.field
              + " entries, but has " + entries);
    }
  }

  /** int32_data entries for a type: one per element of 8 bits or more, else one per packed byte. */
  private static long int32Entries(ElementType type, long count) {
    return switch (type) {
      case FLOAT, INT64, STRING, DOUBLE, UINT32, UINT64, COMPLEX64, COMPLEX128 -> -1;
      default -> type.bitWidth() >= 8 ? count : type.rawByteLength(count);
    };
  }

  /** Decodes a tensor's payload into raw little-endian bytes (full reads only). */
  private OnnxTensorData decodeTensor(ProtoReader r, TensorHeader h) {
    if (h.type == ElementType.STRING) {
      count(h.elementCount);
      List<byte[]> strings = new ArrayList<>();
      ProtoReader m = r.window(h.messageStart, h.messageEnd - h.messageStart);
      while (!m.atEnd()) {
        int tag = m.readTag();
        if (fieldOf(tag) == 6) {
          strings.add(m.readBytes());
        } else {
          m.skip(wireTypeOf(tag));
        }
      }
      return validated(() -> OnnxTensorData.adoptStrings(h.name, h.dims, strings));
    }
    long length = h.type.rawByteLength(h.elementCount);
    if (length > Integer.MAX_VALUE - 8) {
      throw r.error(
          "tensor '" + h.name + "' needs " + length + " bytes, more than one Java array holds");
    }
    byte[] raw = new byte[(int) length];
    if (h.source == Source.RAW) {
      r.copy(h.rawOffset, raw, 0, raw.length);
    } else if (h.source != Source.NONE) {
      fillFromTypedFields(r.window(h.messageStart, h.messageEnd - h.messageStart), h, raw);
    }
    return validated(() -> OnnxTensorData.adoptRaw(h.name, h.type, h.dims, raw));
  }

  private static void fillFromTypedFields(ProtoReader m, TensorHeader h, byte[] raw) {
    int fieldNumber =
        switch (h.source) {
          case FLOAT_DATA -> 4;
          case INT32_DATA -> 5;
          case INT64_DATA -> 7;
          case DOUBLE_DATA -> 10;
          default -> 11;
        };
    int width =
        switch (h.source) {
          case FLOAT_DATA -> 4;
          case DOUBLE_DATA, INT64_DATA -> 8;
          case UINT64_DATA -> h.type == ElementType.UINT32 ? 4 : 8;
          default -> Math.max(1, h.type.bitWidth() / 8);
        };
    int[] at = {0};
    while (!m.atEnd()) {
      int tag = m.readTag();
      if (fieldOf(tag) != fieldNumber) {
        m.skip(wireTypeOf(tag));
        continue;
      }
      int wt = wireTypeOf(tag);
      if (wt == LEN) {
        ProtoReader packed = m.readMessage();
        while (!packed.atEnd()) {
          put(raw, at, readEntry(packed, h.source), width);
        }
      } else {
        put(raw, at, readEntry(m, h.source), width);
      }
    }
  }

  private static long readEntry(ProtoReader r, Source s) {
    return switch (s) {
      case FLOAT_DATA -> r.readFixed32();
      case DOUBLE_DATA -> r.readFixed64();
      default -> r.readVarint();
    };
  }

  private static void put(byte[] raw, int[] at, long value, int width) {
    for (int i = 0; i < width; i++) {
      raw[at[0]++] = (byte) (value >>> (8 * i));
    }
  }

  // ---------------------------------------------------------------- graphs (summary only)

  /** What a summary pass keeps of a graph. */
  private static final class GraphScan {
    final List<OnnxValueInfo> inputs = new ArrayList<>();
    final List<OnnxValueInfo> outputs = new ArrayList<>();
    final List<String> inputNames = new ArrayList<>();
    final List<String> outputNames = new ArrayList<>();
    final Set<String> initializers = new HashSet<>();
    final SortedSet<String> opTypes;
    long nodeCount;
    long parameterCount;

    GraphScan(SortedSet<String> opTypes) {
      this.opTypes = opTypes;
    }

    List<OnnxValueInfo> realInputs() {
      return inputs.stream().filter(i -> !initializers.contains(i.name())).toList();
    }
  }

  private GraphScan scanGraph(ProtoReader r, int depth, SortedSet<String> opTypes) {
    checkDepth(r, depth);
    count(1);
    GraphScan scan = new GraphScan(opTypes);
    String name = "";
    while (!r.atEnd()) {
      int tag = r.readTag();
      switch (fieldOf(tag)) {
        case 1 -> {
          r.expect(tag, LEN, "GraphProto.node");
          scanNode(r.readMessage(), depth, opTypes);
          scan.nodeCount++;
        }
        case 2 -> {
          r.expect(tag, LEN, "GraphProto.name");
          name = r.readString("graph name");
        }
        case 5 -> {
          r.expect(tag, LEN, "GraphProto.initializer");
          TensorHeader h = parseTensorHeader(r.readMessage(), "initializer");
          if (h.name.isEmpty()) {
            throw r.error("graph '" + name + "' has an initializer without a name");
          }
          if (!scan.initializers.add(h.name)) {
            throw r.error("graph '" + name + "' declares initializer '" + h.name
                + "' more than once");
          }
          scan.parameterCount += h.elementCount;
        }
        case 11 -> scanValue(r, tag, "input", depth, scan.inputs, scan.inputNames);
        case 12 -> scanValue(r, tag, "output", depth, scan.outputs, scan.outputNames);
        case 13 -> {
          r.expect(tag, LEN, "GraphProto.value_info");
          parseValueInfo(r.readMessage(), "value_info");
        }
        case 15 -> throw sparseUnsupported(r);
        default -> r.skip(wireTypeOf(tag));
      }
    }
    String n = name;
    // The same distinct-name rules as a full read.
    if (depth == 0) {
      validated(() -> new OnnxGraph(n, List.of(), List.of(), scan.inputs, scan.outputs, List.of()));
    } else {
      requireDistinct(r, n, "input", scan.inputNames);
      requireDistinct(r, n, "output", scan.outputNames);
    }
    return scan;
  }

  /**
   * Reads a graph input or output while scanning. The main graph's must be typed tensors. ONNX
   * lets subgraphs (the bodies of If, Loop and Scan) leave the types of their inputs and outputs
   * out, as exporters such as PyTorch's do; a summary needs only their names.
   */
  private void scanValue(ProtoReader r, int tag, String what, int depth, List<OnnxValueInfo> typed,
      List<String> names) {
    if (depth == 0) {
      OnnxValueInfo v = graphValue(r, tag, what);
      typed.add(v);
      names.add(v.name());
      return;
    }
    r.expect(tag, LEN, "GraphProto." + what);
    ProtoReader m = r.readMessage();
    ValueType v = parseValueInfo(m, "graph " + what);
    if (v.nonTensorKind != null) {
      throw m.error(
          "graph " + what + " '" + v.name + "' is a " + v.nonTensorKind
              + "; Verity handles tensor inputs and outputs only");
    }
    names.add(v.name);
  }

  private static void requireDistinct(ProtoReader r, String graph, String what, List<String> names) {
    Set<String> seen = new HashSet<>();
    for (String n : names) {
      if (!seen.add(n)) {
        throw r.error("graph '" + graph + "' declares " + what + " '" + n + "' more than once");
      }
    }
  }

  private void scanNode(ProtoReader r, int depth, SortedSet<String> opTypes) {
    count(1);
    String opType = "";
    String domain = "";
    Set<String> attributeNames = new HashSet<>();
    while (!r.atEnd()) {
      int tag = r.readTag();
      switch (fieldOf(tag)) {
        case 1, 2, 3 -> {
          r.expect(tag, LEN, "NodeProto string");
          r.readString("node name");
        }
        case 4 -> {
          r.expect(tag, LEN, "NodeProto.op_type");
          opType = r.readString("op_type");
        }
        case 7 -> {
          r.expect(tag, LEN, "NodeProto.domain");
          domain = r.readString("node domain");
        }
        case 5 -> {
          r.expect(tag, LEN, "NodeProto.attribute");
          String a = scanAttribute(r.readMessage(), depth, opTypes);
          if (!attributeNames.add(a)) {
            throw r.error("node has attribute '" + a + "' twice");
          }
        }
        default -> r.skip(wireTypeOf(tag));
      }
    }
    if (opType.isEmpty()) {
      throw r.error("a node has no op_type");
    }
    opTypes.add(new OnnxNode("", opType, domain, List.of(), List.of(), List.of())
        .qualifiedOpType());
  }

  /**
   * Checks an attribute as {@link #parseAttribute} does, short of decoding tensor data, and adds
   * the operators of the subgraphs its value holds. Returns the attribute name.
   */
  private String scanAttribute(ProtoReader r, int depth, SortedSet<String> opTypes) {
    count(1);
    String name = "";
    long typeCode = 0;
    Set<OnnxAttribute.Kind> present = EnumSet.noneOf(OnnxAttribute.Kind.class);
    SortedSet<String> lastGraphOps = new TreeSet<>();
    SortedSet<String> graphsOps = new TreeSet<>();
    while (!r.atEnd()) {
      int tag = r.readTag();
      OnnxAttribute.Kind fieldKind = kindOfField(fieldOf(tag));
      if (fieldKind != null) {
        present.add(fieldKind);
      }
      switch (fieldOf(tag)) {
        case 1 -> {
          r.expect(tag, LEN, "AttributeProto.name");
          name = r.readString("attribute name");
        }
        case 5, 10 -> {
          r.expect(tag, LEN, "AttributeProto tensor");
          parseTensorHeader(r.readMessage(), "attribute tensor");
        }
        case 6 -> {
          r.expect(tag, LEN, "AttributeProto.g");
          lastGraphOps = new TreeSet<>();
          scanGraph(r.readMessage(), depth + 1, lastGraphOps);
        }
        case 11 -> {
          r.expect(tag, LEN, "AttributeProto.graphs");
          scanGraph(r.readMessage(), depth + 1, graphsOps);
        }
        case 20 -> {
          r.expect(tag, VARINT, "AttributeProto.type");
          typeCode = r.readVarint();
        }
        default -> r.skip(wireTypeOf(tag));
      }
    }
    OnnxAttribute.Kind kind =
        typeCode != 0 ? OnnxAttribute.Kind.fromCode(typeCode) : inferKind(r, name, present);
    switch (kind) {
      case TENSOR, GRAPH, SPARSE_TENSOR, TYPE_PROTO -> {
        if (!present.contains(kind)) {
          throw new DecodingException("attribute '" + name + "' of type " + kind + " has no value");
        }
      }
      default -> {}
    }
    if (kind == OnnxAttribute.Kind.GRAPH) {
      opTypes.addAll(lastGraphOps);
    } else if (kind == OnnxAttribute.Kind.GRAPHS) {
      opTypes.addAll(graphsOps);
    }
    if (name.isEmpty()) {
      throw r.error("an attribute has no name");
    }
    return name;
  }

  // ---------------------------------------------------------------- shared

  private static String skipLen(ProtoReader r) {
    r.skip(LEN);
    return "";
  }

  private void count(long n) {
    items += n;
    if (items > limits.maxItems()) {
      throw new DecodingException(
          "the model has more than " + limits.maxItems()
              + " nodes, attributes, names and dimensions in all; raise Limits.maxItems to"
              + " read it");
    }
  }

  /** Runs a domain constructor; its validation failures become decoding failures. */
  private static <T> T validated(Supplier<T> constructor) {
    try {
      return constructor.get();
    } catch (DecodingException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      throw new DecodingException(e.getMessage(), e);
    }
  }

  private static final class Floats {
    float[] a = new float[8];
    int size;

    void add(float v) {
      if (size == a.length) {
        a = Arrays.copyOf(a, a.length * 2);
      }
      a[size++] = v;
    }

    float[] toArray() {
      return Arrays.copyOf(a, size);
    }
  }

  private static final class Longs {
    long[] a = new long[8];
    int size;

    void add(long v) {
      if (size == a.length) {
        a = Arrays.copyOf(a, a.length * 2);
      }
      a[size++] = v;
    }

    long[] toArray() {
      return Arrays.copyOf(a, size);
    }
  }
}
