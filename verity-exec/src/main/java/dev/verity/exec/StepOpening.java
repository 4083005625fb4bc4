package dev.verity.exec;

import dev.verity.core.merkle.MerkleProof;
import dev.verity.protocol.tensor.Tensor;
import java.util.List;
import java.util.Objects;

/**
 * What a worker reveals about one step of its trace in a dispute: the step, its inclusion proof
 * under the trace root, and the input tensors it claims the step read. A referee checks it with
 * {@link Trace#verifyStep}.
 *
 * @param step the committed step
 * @param proof inclusion of {@link TraceStep#leaf()} under the trace root
 * @param inputs the step's non-omitted input tensors, in the node's input order
 */
public record StepOpening(TraceStep step, MerkleProof proof, List<Tensor> inputs) {
  public StepOpening {
    Objects.requireNonNull(step, "step");
    Objects.requireNonNull(proof, "proof");
    inputs = List.copyOf(inputs);
  }
}
