package dev.verity.zk;

import dev.verity.zk.field.Ext;
import dev.verity.zk.pcs.TensorCommitment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * How a proof of inference is laid out for an architecture; derived identically by prover and
 * verifier from public data.
 *
 * <p>Three committed vectors: the <i>input</i> (the user's hiding input commitment), the
 * <i>witness</i> (per-proof, hiding: the quotients, remainders and outputs of every rescaling, the
 * outputs of max pooling, and the lookup multiplicities) and the <i>weights</i> (per model,
 * deterministic). Each committed tensor is an aligned power-of-two slice of one of them. The
 * output tensor is public. Every other tensor (outputs of dense, convolution, sum pooling and add)
 * is virtual: claims about it are reduced by sum-checks to claims about the tensors it is computed
 * from.
 *
 * <p>Lookups: every value whose range matters is looked up in one table of 2^(bits+1) entries
 * (x, y, tag): tag 0 holds (v, 0) for v in [0, 2^bits) (range checks), tag 1 holds (z, relu(z))
 * for z in [-2^(bits-1), 2^(bits-1)). A lookup is encoded as x + beta y + beta^2 tag. Groups of
 * lookups (one per checked tensor) are aligned slices of the lookup domain; unused slots look up
 * (0, 0, 0).
 */
final class Circuit {
  static final int TAG_RANGE = 0;
  static final int TAG_RELU = 1;

  /** Which vector a polynomial is a slice of. */
  enum Source {
    INPUT,
    WITNESS,
    WEIGHTS,
    PUBLIC
  }

  /** A committed (or public) vector slice [offset, offset + 2^vars) read as a multilinear polynomial. */
  record Poly(Source source, int offset, int vars) {}

  /**
   * Maps a point of a pooled tensor's domain to the corresponding window element of the pooled
   * input: (ox, oy, c) to (dx, ox, dy, oy, c). Null stands for the identity.
   */
  record Window(int logOutWidth, int logOutHeight, int dx, int dy) {
    Ext[] apply(Ext[] p) {
      Ext[] out = new Ext[p.length + 2];
      int k = 0;
      int j = 0;
      out[k++] = Ext.of(dx);
      for (int i = 0; i < logOutWidth; i++) {
        out[k++] = p[j++];
      }
      out[k++] = Ext.of(dy);
      for (int i = 0; i < logOutHeight; i++) {
        out[k++] = p[j++];
      }
      while (j < p.length) {
        out[k++] = p[j++];
      }
      return out;
    }

    /** The input index of window element (dx, dy) for pooled index i. */
    int apply(int i) {
      int ox = i & ((1 << logOutWidth) - 1);
      int oy = (i >>> logOutWidth) & ((1 << logOutHeight) - 1);
      int c = i >>> (logOutWidth + logOutHeight);
      int inW = logOutWidth + 1;
      int inH = logOutHeight + 1;
      return (((c << inH) | (2 * oy + dy)) << inW) | (2 * ox + dx);
    }
  }

  /** Which of a tensor's vectors a term reads: its values, or a rescaling's quotient or remainder. */
  enum Data {
    VALUE,
    QUOTIENT,
    REMAINDER
  }

  /** coefficient * vector(window(x)), the vector being one of a tensor's. */
  record Term(int tensor, Data data, Poly poly, Window window, long coefficient) {}

  /** Lookups of x + beta y + beta^2 tag for every x of a slice of the lookup domain. */
  record LookupGroup(int offset, int vars, int tag, long constant, List<Term> xTerms, Term yTerm) {}

  final Architecture arch;
  final int bits;
  final Poly[] tensorPoly;
  final Poly[] quotient;
  final Poly[] remainder;
  final Poly[] weightPoly;
  final Poly[] biasPoly;
  final Poly multiplicities;
  final List<LookupGroup> lookups;
  final int lookupVars;
  final int tableVars;
  final int inputVars;
  final int witnessVars;
  final int witnessLength;
  final int weightsVars;
  final int weightsLength;

  Circuit(Architecture arch) {
    this.arch = arch;
    this.bits = arch.activationBits();
    int n = arch.tensorCount();
    int out = arch.outputTensor();
    tensorPoly = new Poly[n];
    quotient = new Poly[n];
    remainder = new Poly[n];
    List<Layer> layers = arch.layers();
    weightPoly = new Poly[layers.size()];
    biasPoly = new Poly[layers.size()];
    tableVars = bits + 1;

    inputVars = arch.inputShape().vars();
    tensorPoly[0] = new Poly(Source.INPUT, 0, inputVars);

    // witness slices: requested in layer order, placed largest first
    Allocator witness = new Allocator();
    int[] valueSlot = new int[n];
    int[] quotientSlot = new int[n];
    int[] remainderSlot = new int[n];
    java.util.Arrays.fill(valueSlot, -1);
    java.util.Arrays.fill(quotientSlot, -1);
    java.util.Arrays.fill(remainderSlot, -1);
    for (int i = 0; i < layers.size(); i++) {
      int t = i + 1;
      int vars = arch.shape(t).vars();
      Layer l = layers.get(i);
      if (l instanceof Layer.Requant r) {
        if (t != out) {
          valueSlot[t] = witness.request(vars);
        }
        if (r.relu()) {
          quotientSlot[t] = witness.request(vars);
        }
        if (r.shift() > 0) {
          remainderSlot[t] = witness.request(vars);
        }
      } else if (l instanceof Layer.MaxPool && t != out) {
        valueSlot[t] = witness.request(vars);
      }
    }
    int mSlot = witness.request(tableVars);
    witness.place();
    witnessLength = witness.length();
    witnessVars = Shape.log2Ceil(witnessLength);
    for (int t = 1; t < n; t++) {
      if (t == out) {
        tensorPoly[t] = new Poly(Source.PUBLIC, 0, arch.shape(t).vars());
      } else if (valueSlot[t] >= 0) {
        tensorPoly[t] = witness.poly(Source.WITNESS, valueSlot[t]);
      }
      if (arch.producer(t) instanceof Layer.Requant r) {
        quotient[t] = r.relu() ? witness.poly(Source.WITNESS, quotientSlot[t]) : tensorPoly[t];
        if (r.shift() > 0) {
          remainder[t] = witness.poly(Source.WITNESS, remainderSlot[t]);
        }
      }
    }
    multiplicities = witness.poly(Source.WITNESS, mSlot);

    // weight slices
    Allocator weights = new Allocator();
    int[] wSlot = new int[layers.size()];
    int[] bSlot = new int[layers.size()];
    for (int i = 0; i < layers.size(); i++) {
      Layer l = layers.get(i);
      if (l instanceof Layer.Dense d) {
        int outVars = arch.shape(i + 1).vars();
        wSlot[i] = weights.request(arch.shape(d.input()).vars() + outVars);
        bSlot[i] = weights.request(outVars);
      } else if (l instanceof Layer.Conv2d c) {
        int kv = Shape.log2Ceil(c.kernel());
        int ci = arch.shape(c.input()).logChannels();
        int co = arch.shape(i + 1).logChannels();
        wSlot[i] = weights.request(2 * kv + ci + co);
        bSlot[i] = weights.request(co);
      }
    }
    weights.place();
    for (int i = 0; i < layers.size(); i++) {
      Layer l = layers.get(i);
      if (l instanceof Layer.Dense || l instanceof Layer.Conv2d) {
        weightPoly[i] = weights.poly(Source.WEIGHTS, wSlot[i]);
        biasPoly[i] = weights.poly(Source.WEIGHTS, bSlot[i]);
      }
    }
    weightsLength = Math.max(1, weights.length());
    weightsVars = Shape.log2Ceil(weightsLength);

    // lookup groups
    List<PendingGroup> groups = new ArrayList<>();
    long half = 1L << (bits - 1);
    groups.add(new PendingGroup(inputVars, TAG_RANGE, half, List.of(term(0, null, 1)), null));
    for (int i = 0; i < layers.size(); i++) {
      int t = i + 1;
      int vars = arch.shape(t).vars();
      Layer l = layers.get(i);
      if (l instanceof Layer.Requant r) {
        if (r.relu()) {
          groups.add(new PendingGroup(vars, TAG_RELU, 0, List.of(new Term(t, Data.QUOTIENT, quotient[t], null, 1)), term(t, null, 1)));
        } else if (t != out) {
          groups.add(new PendingGroup(vars, TAG_RANGE, half, List.of(term(t, null, 1)), null));
        }
        if (r.shift() > 0) {
          groups.add(new PendingGroup(vars, TAG_RANGE, 0, List.of(new Term(t, Data.REMAINDER, remainder[t], null, 1)), null));
          if (r.shift() < bits) {
            groups.add(new PendingGroup(
                vars, TAG_RANGE, (1L << r.shift()) - 1, List.of(new Term(t, Data.REMAINDER, remainder[t], null, -1)), null));
          }
        }
      } else if (l instanceof Layer.MaxPool m) {
        Shape os = arch.shape(t);
        for (int dy = 0; dy < 2; dy++) {
          for (int dx = 0; dx < 2; dx++) {
            Window w = new Window(os.logWidth(), os.logHeight(), dx, dy);
            groups.add(new PendingGroup(vars, TAG_RANGE, 0, List.of(term(t, null, 1), term(m.input(), w, -1)), null));
          }
        }
      }
    }
    Allocator lookupSlots = new Allocator();
    int[] slot = new int[groups.size()];
    for (int g = 0; g < groups.size(); g++) {
      slot[g] = lookupSlots.request(groups.get(g).vars);
    }
    lookupSlots.place();
    List<LookupGroup> placed = new ArrayList<>();
    for (int g = 0; g < groups.size(); g++) {
      PendingGroup pg = groups.get(g);
      placed.add(new LookupGroup(lookupSlots.offset(slot[g]), pg.vars, pg.tag, pg.constant, pg.xTerms, pg.yTerm));
    }
    lookups = List.copyOf(placed);
    lookupVars = Math.max(Shape.log2Ceil(lookupSlots.length()), tableVars);
  }

  private Term term(int tensor, Window w, long coefficient) {
    return new Term(tensor, Data.VALUE, tensorPoly[tensor], w, coefficient);
  }

  private record PendingGroup(int vars, int tag, long constant, List<Term> xTerms, Term yTerm) {}

  TensorCommitment.Params inputParams() {
    return TensorCommitment.Params.choose(inputVars, 1 << inputVars, true);
  }

  TensorCommitment.Params witnessParams() {
    return TensorCommitment.Params.choose(witnessVars, witnessLength, true);
  }

  TensorCommitment.Params weightsParams() {
    return TensorCommitment.Params.choose(weightsVars, weightsLength, false);
  }

  /** Assigns aligned offsets to power-of-two slices: largest first, in request order. */
  private static final class Allocator {
    private final List<int[]> requests = new ArrayList<>(); // {vars, index}
    private int[] offsets;
    private int length;

    int request(int vars) {
      requests.add(new int[] {vars, requests.size()});
      return requests.size() - 1;
    }

    void place() {
      List<int[]> sorted = new ArrayList<>(requests);
      sorted.sort(Comparator.<int[]>comparingInt(r -> -r[0]).thenComparingInt(r -> r[1]));
      offsets = new int[requests.size()];
      long at = 0;
      for (int[] r : sorted) {
        offsets[r[1]] = (int) at;
        at += 1L << r[0];
        if (at > (1 << 28)) {
          throw new IllegalArgumentException("model is too large to prove: more than 2^28 committed values");
        }
      }
      length = (int) at;
    }

    int offset(int slot) {
      return offsets[slot];
    }

    int vars(int slot) {
      return requests.get(slot)[0];
    }

    Poly poly(Source s, int slot) {
      return new Poly(s, offsets[slot], vars(slot));
    }

    int length() {
      return length;
    }
  }

  /** The table's entry encoding at a point of its 2^(bits+1) domain: x + beta y + beta^2 tag. */
  Ext tableAt(Ext[] t, Ext beta) {
    int l = bits;
    Ext low = Ext.ZERO;
    for (int i = l - 1; i >= 0; i--) {
      low = low.add(low).add(t[i]);
    }
    Ext tag = t[l];
    Ext x = low.sub(tag.mul(1L << (l - 1)));
    Ext lowRest = Ext.ZERO;
    for (int i = l - 2; i >= 0; i--) {
      lowRest = lowRest.add(lowRest).add(t[i]);
    }
    Ext y = tag.mul(t[l - 1]).mul(lowRest);
    return x.add(beta.mul(y)).add(beta.square().mul(tag));
  }

  /** The table index of a lookup (tag, x, y) with integer x, or -1 when it is not in the table. */
  int tableIndex(int tag, long x, long y) {
    long size = 1L << bits;
    long half = size >> 1;
    if (tag == TAG_RANGE) {
      return x >= 0 && x < size && y == 0 ? (int) x : -1;
    }
    if (x < -half || x >= half || y != Math.max(x, 0)) {
      return -1;
    }
    return (int) (size + x + half);
  }
}
