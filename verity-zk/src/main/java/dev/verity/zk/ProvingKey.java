package dev.verity.zk;

import dev.verity.zk.field.Goldilocks;
import dev.verity.zk.pcs.TensorCommitment;
import java.util.List;

/**
 * A model prepared for proving: its circuit layout and the commitment to its weights (encoded
 * once, reused by every proof). Immutable and safe to share between threads.
 */
public final class ProvingKey {
  private final QuantizedModel model;
  private final Circuit circuit;
  private final long[] weights;
  private final TensorCommitment.Committed weightsCommitment;
  private final VerifyingKey verifyingKey;

  private ProvingKey(QuantizedModel model) {
    this.model = model;
    this.circuit = new Circuit(model.architecture());
    this.weights = layoutWeights(model, circuit);
    this.weightsCommitment = TensorCommitment.commit(weights, circuit.weightsVars, false, null);
    this.verifyingKey = new VerifyingKey(model.cid(), model.architecture(), weightsCommitment.root());
  }

  /** Lays out the model's weights and commits to them. */
  public static ProvingKey of(QuantizedModel model) {
    return new ProvingKey(model);
  }

  public QuantizedModel model() {
    return model;
  }

  public VerifyingKey verifyingKey() {
    return verifyingKey;
  }

  Circuit circuit() {
    return circuit;
  }

  long[] weights() {
    return weights;
  }

  TensorCommitment.Committed weightsCommitment() {
    return weightsCommitment;
  }

  /** The padded weight vector: every dense and convolution layer's weights and biases. */
  static long[] layoutWeights(QuantizedModel model, Circuit c) {
    Architecture arch = model.architecture();
    long[] w = new long[c.weightsLength];
    List<Layer> layers = arch.layers();
    for (int i = 0; i < layers.size(); i++) {
      Layer l = layers.get(i);
      if (l instanceof Layer.Dense d) {
        Shape in = arch.shape(d.input());
        int inVars = in.vars();
        int n = in.size();
        int[] wt = model.weightsView(i);
        int base = c.weightColumn[i].offset();
        for (int o = 0; o < d.outputs(); o++) {
          for (int j = 0; j < n; j++) {
            w[base + (o << inVars) + in.physicalIndexOfFlat(j)] = Goldilocks.fromLong(wt[o * n + j]);
          }
        }
        long[] b = model.biasView(i);
        for (int o = 0; o < d.outputs(); o++) {
          w[c.biasColumn[i].offset() + o] = Goldilocks.fromLong(b[o]);
        }
      } else if (l instanceof Layer.Conv2d cv) {
        Shape in = arch.shape(cv.input());
        int k = cv.kernel();
        int kp = 1 << Shape.log2Ceil(k);
        int cip = in.paddedChannels();
        int[] wt = model.weightsView(i);
        int base = c.weightColumn[i].offset();
        for (int co = 0; co < cv.outChannels(); co++) {
          for (int ci = 0; ci < in.channels(); ci++) {
            for (int ky = 0; ky < k; ky++) {
              for (int kx = 0; kx < k; kx++) {
                int phys = ((co * cip + ci) * kp + ky) * kp + kx;
                w[base + phys] = Goldilocks.fromLong(wt[((co * in.channels() + ci) * k + ky) * k + kx]);
              }
            }
          }
        }
        long[] b = model.biasView(i);
        for (int co = 0; co < cv.outChannels(); co++) {
          w[c.biasColumn[i].offset() + co] = Goldilocks.fromLong(b[co]);
        }
      }
    }
    return w;
  }
}
