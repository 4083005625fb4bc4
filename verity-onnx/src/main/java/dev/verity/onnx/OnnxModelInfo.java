package dev.verity.onnx;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * What Verity needs to know about an ONNX file without loading its weights: format versions,
 * producer, the signature callers see, the operators used and the model's size. Made by {@link
 * OnnxReader#readInfo(java.nio.file.Path)}, which validates the file as thoroughly as a full read
 * except that it does not decode weight data.
 *
 * @param irVersion the ONNX IR version
 * @param opsetImports operator set versions by domain ("" is standard ONNX), in file order
 * @param producerName the tool that wrote the file ("" when absent)
 * @param producerVersion its version ("" when absent)
 * @param inputs the inputs callers feed (graph inputs that are not initializers)
 * @param outputs the graph outputs
 * @param opTypes every operator used, subgraphs included, as {@link OnnxNode#qualifiedOpType()}
 * @param nodeCount nodes in the main graph
 * @param parameterCount elements in the main graph's initializers
 * @param fileSize bytes in the file
 */
public record OnnxModelInfo(
    long irVersion,
    Map<String, Long> opsetImports,
    String producerName,
    String producerVersion,
    List<OnnxValueInfo> inputs,
    List<OnnxValueInfo> outputs,
    SortedSet<String> opTypes,
    long nodeCount,
    long parameterCount,
    long fileSize) {

  public OnnxModelInfo {
    opsetImports = Collections.unmodifiableMap(new LinkedHashMap<>(opsetImports));
    Objects.requireNonNull(producerName, "producerName");
    Objects.requireNonNull(producerVersion, "producerVersion");
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
    opTypes = Collections.unmodifiableSortedSet(new TreeSet<>(opTypes));
  }

  /** The summary of a model already in memory, encoded in {@code fileSize} bytes. */
  public static OnnxModelInfo of(OnnxModel model, long fileSize) {
    return new OnnxModelInfo(
        model.irVersion(),
        model.opsetImports(),
        model.producerName(),
        model.producerVersion(),
        model.realInputs(),
        model.outputs(),
        model.opTypes(),
        model.graph().nodes().size(),
        model.parameterCount(),
        fileSize);
  }
}
