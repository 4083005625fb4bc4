package dev.verity.zk;

import dev.verity.core.Cid;
import java.util.Objects;

/**
 * The public claim a proof of inference establishes: "the model with this verifying key (and so
 * this CID and these weights), applied to the input committed in {@code input}, outputs {@code
 * output}". The output is in channel-major order, exactly as {@link QuantizedModel#run} returns it.
 */
public record Statement(VerifyingKey key, InputCommitment input, long[] output) {
  public Statement {
    Objects.requireNonNull(key);
    Objects.requireNonNull(input);
    Objects.requireNonNull(output);
    output = output.clone();
  }

  @Override
  public long[] output() {
    return output.clone();
  }

  public Cid modelCid() {
    return key.modelCid();
  }

  /** The same statement with another output: what a cheating prover would like to claim. */
  public Statement withOutput(long[] other) {
    return new Statement(key, input, other);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Statement s && key.equals(s.key) && input.equals(s.input)
        && java.util.Arrays.equals(output, s.output);
  }

  @Override
  public int hashCode() {
    return Objects.hash(key, input, java.util.Arrays.hashCode(output));
  }

  @Override
  public String toString() {
    return "Statement[" + key + ", " + input + ", output " + java.util.Arrays.toString(output) + "]";
  }
}
