package dev.verity.exec;

import dev.verity.protocol.tensor.NamedTensors;
import java.util.Objects;

/**
 * The result of a traced run: the canonical outputs and the trace committing to every
 * intermediate tensor.
 *
 * @param outputs the model's outputs, bit for bit what every honest node computes
 * @param trace the trace of the run
 */
public record Execution(NamedTensors outputs, Trace trace) {
  public Execution {
    Objects.requireNonNull(outputs, "outputs");
    Objects.requireNonNull(trace, "trace");
  }
}
