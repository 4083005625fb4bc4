package dev.verity.exec;

import dev.verity.core.Hash;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import dev.verity.protocol.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One step of an execution trace: node {@code index} of the model's graph (in file order, which
 * ONNX requires to be topological), its operator, the hashes of the tensors it read and the hash
 * of the tensor it wrote. Its {@link #leaf()} is the Merkle leaf the trace root commits to.
 *
 * @param index the node's position in the graph
 * @param node the node's name
 * @param opType its operator
 * @param inputs {@link #tensorHash} of each non-omitted input, in the node's input order
 * @param output {@link #tensorHash} of its one output
 */
public record TraceStep(int index, String node, String opType, List<Hash> inputs, Hash output) {
  /** Domain tag of tensor hashes. */
  public static final String TENSOR_DOMAIN = "verity/exec/tensor/v1";

  public TraceStep {
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(opType, "opType");
    Objects.requireNonNull(output, "output");
    inputs = List.copyOf(inputs);
    if (index < 0) {
      throw new IllegalArgumentException("step index must not be negative: " + index);
    }
  }

  /**
   * The Merkle leaf: canonical CBOR of {@code {"step": index, "node": name, "op": opType,
   * "inputs": [32-byte hashes], "output": 32-byte hash}}.
   */
  public byte[] leaf() {
    List<CborValue> in = new ArrayList<>(inputs.size());
    for (Hash h : inputs) {
      in.add(new CborValue.Bytes(h.toBytes()));
    }
    return Cbor.encode(CborValue.Map.builder()
        .put("step", index)
        .put("node", node)
        .put("op", opType)
        .put("inputs", new CborValue.Array(in))
        .put("output", output.toBytes())
        .build());
  }

  /**
   * The hash a trace commits to for a tensor (float32 or int64 only): SHA-256 tagged {@value
   * #TENSOR_DOMAIN} over one byte of ONNX element type code (1 float32, 7 int64), one byte of rank,
   * each dimension as 8 bytes little-endian, then the elements little-endian (float32 as IEEE 754
   * bit patterns: the sign of zero and NaN payloads count).
   *
   * @throws ExecutionException for any other element type
   */
  public static Hash tensorHash(Tensor t) {
    return Value.fromTensor(t, "the tensor").hash();
  }
}
