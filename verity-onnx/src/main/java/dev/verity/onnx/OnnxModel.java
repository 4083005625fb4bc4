package dev.verity.onnx;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedSet;

/**
 * An ONNX model: IR version, imported operator sets, producer, metadata and the main graph.
 * Immutable and validated: the IR version is positive, at least one operator set is imported, and
 * the main graph has at least one output. Read one with {@link OnnxReader#read(byte[])}, build one
 * with {@link #builder()}, serialize it with {@link OnnxWriter#write(OnnxModel)}.
 *
 * <p>Parts of the ONNX format Verity does not use are not kept: doc strings of graphs and nodes,
 * model-local functions, training information.
 *
 * @param irVersion the ONNX IR version the file targets
 * @param opsetImports operator set versions by domain ("" is the standard ONNX domain), in file
 *     order
 * @param producerName the tool that wrote the file ("" when absent)
 * @param producerVersion its version ("" when absent)
 * @param domain the model's reverse-DNS domain ("" when absent)
 * @param modelVersion the model's own version number (0 when absent)
 * @param docString human-readable documentation ("" when absent)
 * @param graph the main graph
 * @param metadata free-form metadata properties, in file order
 */
public record OnnxModel(
    long irVersion,
    Map<String, Long> opsetImports,
    String producerName,
    String producerVersion,
    String domain,
    long modelVersion,
    String docString,
    OnnxGraph graph,
    Map<String, String> metadata) {

  /** The IR version the builder writes unless told otherwise (ONNX 1.10; ONNX Runtime 1.10+). */
  public static final long DEFAULT_IR_VERSION = 8;
  /** The standard operator set version the builder imports unless told otherwise. */
  public static final long DEFAULT_OPSET = 13;

  public OnnxModel {
    Objects.requireNonNull(producerName, "producerName");
    Objects.requireNonNull(producerVersion, "producerVersion");
    Objects.requireNonNull(domain, "domain");
    Objects.requireNonNull(docString, "docString");
    Objects.requireNonNull(graph, "graph");
    opsetImports = Collections.unmodifiableMap(new LinkedHashMap<>(opsetImports));
    metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    if (irVersion < 1) {
      throw new IllegalArgumentException("IR version must be positive, got " + irVersion);
    }
    if (opsetImports.isEmpty()) {
      throw new IllegalArgumentException(
          "the model imports no operator set; every ONNX model needs at least one opset_import");
    }
    opsetImports.forEach(
        (d, v) -> {
          Objects.requireNonNull(d, "opset domain");
          if (v == null || v < 1) {
            throw new IllegalArgumentException(
                "operator set '" + d + "' has invalid version " + v + "; versions start at 1");
          }
        });
    metadata.forEach((k, v) -> Objects.requireNonNull(v, "metadata value of " + k));
    if (graph.outputs().isEmpty()) {
      throw new IllegalArgumentException(
          "the main graph has no outputs; a model must declare at least one output");
    }
  }

  /** Inputs a caller must feed (graph inputs that are not initializers). */
  public List<OnnxValueInfo> realInputs() {
    return graph.realInputs();
  }

  public List<OnnxValueInfo> outputs() {
    return graph.outputs();
  }

  /** Elements in the main graph's initializers. */
  public long parameterCount() {
    return graph.parameterCount();
  }

  /** Operators used anywhere in the model, as {@link OnnxNode#qualifiedOpType()}. */
  public SortedSet<String> opTypes() {
    return graph.opTypes();
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Builds a model whose main graph is checked for consistency: every node input is a graph input,
   * an initializer or an earlier node's output; every value is defined once; every graph output is
   * defined. Defaults: IR version {@value #DEFAULT_IR_VERSION}, standard opset {@value
   * #DEFAULT_OPSET} when no opset is given, producer "verity".
   */
  public static final class Builder {
    private long irVersion = DEFAULT_IR_VERSION;
    private final Map<String, Long> opsets = new LinkedHashMap<>();
    private String producerName = "verity";
    private String producerVersion = "";
    private String domain = "";
    private long modelVersion;
    private String docString = "";
    private String graphName = "main";
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final List<OnnxValueInfo> inputs = new ArrayList<>();
    private final List<OnnxValueInfo> outputs = new ArrayList<>();
    private final List<OnnxValueInfo> valueInfo = new ArrayList<>();
    private final List<OnnxTensorData> initializers = new ArrayList<>();
    private final List<OnnxNode> nodes = new ArrayList<>();

    private Builder() {}

    public Builder irVersion(long version) {
      this.irVersion = version;
      return this;
    }

    /** Imports an operator set; domain "" is standard ONNX. */
    public Builder opset(String opsetDomain, long version) {
      opsets.put(Objects.requireNonNull(opsetDomain), version);
      return this;
    }

    public Builder producer(String name, String version) {
      this.producerName = Objects.requireNonNull(name);
      this.producerVersion = Objects.requireNonNull(version);
      return this;
    }

    public Builder domain(String modelDomain) {
      this.domain = Objects.requireNonNull(modelDomain);
      return this;
    }

    public Builder modelVersion(long version) {
      this.modelVersion = version;
      return this;
    }

    public Builder docString(String doc) {
      this.docString = Objects.requireNonNull(doc);
      return this;
    }

    public Builder graphName(String name) {
      this.graphName = Objects.requireNonNull(name);
      return this;
    }

    public Builder metadata(String key, String value) {
      metadata.put(Objects.requireNonNull(key), Objects.requireNonNull(value));
      return this;
    }

    public Builder input(String name, ElementType type, Dim... dims) {
      return input(OnnxValueInfo.tensor(name, type, dims));
    }

    public Builder input(OnnxValueInfo info) {
      inputs.add(Objects.requireNonNull(info));
      return this;
    }

    public Builder output(String name, ElementType type, Dim... dims) {
      return output(OnnxValueInfo.tensor(name, type, dims));
    }

    public Builder output(OnnxValueInfo info) {
      outputs.add(Objects.requireNonNull(info));
      return this;
    }

    /** Annotates an intermediate value with its type. */
    public Builder valueInfo(OnnxValueInfo info) {
      valueInfo.add(Objects.requireNonNull(info));
      return this;
    }

    public Builder initializer(OnnxTensorData tensor) {
      initializers.add(Objects.requireNonNull(tensor));
      return this;
    }

    /** A FLOAT initializer (stored as raw little-endian bytes). */
    public Builder initializer(String name, long[] dims, float[] data) {
      return initializer(OnnxTensorData.ofFloats(name, dims, data));
    }

    /** An INT64 initializer (stored as raw little-endian bytes). */
    public Builder initializer(String name, long[] dims, long[] data) {
      return initializer(OnnxTensorData.ofLongs(name, dims, data));
    }

    public Builder node(OnnxNode node) {
      nodes.add(Objects.requireNonNull(node));
      return this;
    }

    /** A standard-domain node named {@code <opType>_<index>}. */
    public Builder node(
        String opType, List<String> nodeInputs, List<String> nodeOutputs,
        OnnxAttribute... attributes) {
      return node(OnnxNode.of(opType + "_" + nodes.size(), opType, nodeInputs, nodeOutputs,
          attributes));
    }

    /**
     * @throws IllegalArgumentException naming the first inconsistency found
     */
    public OnnxModel build() {
      Set<String> defined = new HashSet<>();
      for (OnnxValueInfo i : inputs) {
        defined.add(i.name());
      }
      for (OnnxTensorData t : initializers) {
        defined.add(t.name());
      }
      for (OnnxNode n : nodes) {
        for (String in : n.inputs()) {
          if (!in.isEmpty() && !defined.contains(in)) {
            throw new IllegalArgumentException(
                "node '" + n.name() + "' (" + n.opType() + ") reads '" + in
                    + "', which no graph input, initializer or earlier node defines");
          }
        }
        for (String out : n.outputs()) {
          if (!out.isEmpty() && !defined.add(out)) {
            throw new IllegalArgumentException(
                "node '" + n.name() + "' (" + n.opType() + ") defines '" + out
                    + "', which is already defined; every value is defined once");
          }
        }
      }
      for (OnnxValueInfo o : outputs) {
        if (!defined.contains(o.name())) {
          throw new IllegalArgumentException(
              "graph output '" + o.name() + "' is not produced by any node, input or initializer");
        }
      }
      Map<String, Long> opsetImports = opsets.isEmpty() ? Map.of("", DEFAULT_OPSET) : opsets;
      OnnxGraph graph = new OnnxGraph(graphName, nodes, initializers, inputs, outputs, valueInfo);
      return new OnnxModel(irVersion, opsetImports, producerName, producerVersion, domain,
          modelVersion, docString, graph, metadata);
    }
  }
}
