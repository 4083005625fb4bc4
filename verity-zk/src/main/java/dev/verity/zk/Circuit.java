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
 * <i>witness</i> (per proof, hiding) and the <i>weights</i> (per model, deterministic). Each is a
 * concatenation of power-of-two, aligned <i>columns</i>. The output tensor is public. Every other
 * tensor is either <i>virtual</i> (outputs of dense, convolution, sum pooling and add: claims about
 * it are reduced by sum-checks to claims about the tensors it is computed from) or an affine
 * expression over columns.
 *
 * <p>Activations are int16 and are handled as two 8-bit limbs: a rescaled value z is committed as
 * h, l with z = 256 h + l - 2^15. A ReLU output is committed as s = [z >= 0], sh = s (h - 128) and
 * sl = s l, so that relu(z) = s z = 256 sh + sl is linear in committed columns. Remainders are
 * committed as 8-bit limbs; max pooling commits the window maximum and the four differences to the
 * window's elements as limbs. All limbs are checked with lookups into one table of 1024 rows
 * (x, y, w) with a tag: RANGE (v, 0, 0) for v in [0, 256); HIGH (h, [h >= 128], [h >= 128] (h -
 * 128)); MASK (l, s, s l) for s in {0, 1}. A lookup is encoded as x + beta y + beta^2 w + beta^3
 * tag.
 */
final class Circuit {
  static final int LIMB_BITS = 8;
  static final long LIMB = 1L << LIMB_BITS;
  /** Offset making an int16 non-negative. */
  static final long HALF = 1L << (Architecture.ACTIVATION_BITS - 1);
  static final int TABLE_VARS = 10;
  static final int TAG_RANGE = 0;
  static final int TAG_HIGH = 1;
  static final int TAG_MASK = 2;

  /** Which vector a column is a slice of. */
  enum Source {
    INPUT,
    WITNESS,
    WEIGHTS,
    PUBLIC
  }

  /** A vector slice [offset, offset + 2^vars) read as a multilinear polynomial. */
  record Column(Source source, int offset, int vars) {}

  /**
   * Maps a point of a pooled tensor's domain to the corresponding window element of the pooled
   * input: (ox, oy, c) to (dx, ox, dy, oy, c).
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

    /** The input index of this window element for pooled index i. */
    int apply(int i) {
      int ox = i & ((1 << logOutWidth) - 1);
      int oy = (i >>> logOutWidth) & ((1 << logOutHeight) - 1);
      int c = i >>> (logOutWidth + logOutHeight);
      int inW = logOutWidth + 1;
      int inH = logOutHeight + 1;
      return (((c << inH) | (2 * oy + dy)) << inW) | (2 * ox + dx);
    }
  }

  /** coefficient * column(x). */
  record Term(Column column, long coefficient) {}

  /** constant + sum of terms: an affine function of columns at the same point. */
  record Expr(long constant, List<Term> terms) {
    static Expr of(Column c) {
      return new Expr(0, List.of(new Term(c, 1)));
    }

    /** 256 hi + lo + constant. */
    static Expr limbs(Column hi, Column lo, long constant) {
      return new Expr(constant, List.of(new Term(hi, LIMB), new Term(lo, 1)));
    }
  }

  /** What a witness column holds, so the prover can fill it from an inference trace. */
  enum Kind {
    INPUT_HIGH,
    INPUT_LOW,
    HIGH,
    LOW,
    SIGN,
    SIGN_HIGH,
    SIGN_LOW,
    REMAINDER_LIMB,
    POOL_MAX,
    POOL_DIFF_LOW,
    POOL_DIFF_HIGH,
    MULTIPLICITIES
  }

  /** A witness column with its meaning: kind, tensor and limb or window index. */
  record WitnessColumn(Column column, Kind kind, int tensor, int index) {}

  /** Lookups of x + beta y + beta^2 w + beta^3 tag over a slice of the lookup domain. */
  record LookupGroup(int offset, int vars, int tag, Expr x, Expr y, Expr w) {}

  final Architecture arch;
  /** Tensor t as an expression over columns, or null when virtual. */
  final Expr[] tensorExpr;
  /** For a rescaling's output t: z = floor(x / 2^shift). */
  final Expr[] quotientExpr;
  /** For a rescaling's output t with a shift: the remainder, or null. */
  final Expr[] remainderExpr;
  /** For a ReLU rescaling's output t: 256 sh + sl, its output in committed columns. */
  final Expr[] reluExpr;
  /** For a max pooling's output t: the differences max - element of window j. */
  final Expr[][] diffExpr;
  /** 256 h + l - 2^15 over the input's limbs. */
  final Expr inputLimbs;
  final Column[] weightColumn;
  final Column[] biasColumn;
  final Column multiplicities;
  final List<WitnessColumn> witnessColumns;
  final List<LookupGroup> lookups;
  final int lookupVars;
  final int inputVars;
  final int witnessVars;
  final int witnessLength;
  final int weightsVars;
  final int weightsLength;

  Circuit(Architecture arch) {
    this.arch = arch;
    int n = arch.tensorCount();
    int out = arch.outputTensor();
    List<Layer> layers = arch.layers();
    tensorExpr = new Expr[n];
    quotientExpr = new Expr[n];
    remainderExpr = new Expr[n];
    reluExpr = new Expr[n];
    diffExpr = new Expr[n][];
    weightColumn = new Column[layers.size()];
    biasColumn = new Column[layers.size()];

    inputVars = arch.inputShape().vars();
    tensorExpr[0] = Expr.of(new Column(Source.INPUT, 0, inputVars));

    // witness columns, requested in a fixed order and placed largest first
    Allocator alloc = new Allocator();
    List<Pending> requested = new ArrayList<>();
    java.util.function.BiFunction<Kind, int[], Integer> req =
        (kind, tv) -> {
          requested.add(new Pending(kind, tv[0], tv[1], alloc.request(tv[2])));
          return requested.size() - 1;
        };
    int ih = req.apply(Kind.INPUT_HIGH, new int[] {0, 0, inputVars});
    int il = req.apply(Kind.INPUT_LOW, new int[] {0, 0, inputVars});
    int[][] slots = new int[n][];
    for (int i = 0; i < layers.size(); i++) {
      int t = i + 1;
      int vars = arch.shape(t).vars();
      Layer l = layers.get(i);
      if (l instanceof Layer.Requant r) {
        List<Integer> s = new ArrayList<>();
        if (r.relu() || t != out) {
          s.add(req.apply(Kind.HIGH, new int[] {t, 0, vars}));
          s.add(req.apply(Kind.LOW, new int[] {t, 0, vars}));
        }
        if (r.relu()) {
          s.add(req.apply(Kind.SIGN, new int[] {t, 0, vars}));
          s.add(req.apply(Kind.SIGN_HIGH, new int[] {t, 0, vars}));
          s.add(req.apply(Kind.SIGN_LOW, new int[] {t, 0, vars}));
        }
        for (int k = 0; k < limbCount(r.shift()); k++) {
          s.add(req.apply(Kind.REMAINDER_LIMB, new int[] {t, k, vars}));
        }
        slots[t] = s.stream().mapToInt(Integer::intValue).toArray();
      } else if (l instanceof Layer.MaxPool) {
        List<Integer> s = new ArrayList<>();
        if (t != out) {
          s.add(req.apply(Kind.POOL_MAX, new int[] {t, 0, vars}));
        }
        for (int j = 0; j < 4; j++) {
          s.add(req.apply(Kind.POOL_DIFF_LOW, new int[] {t, j, vars}));
          s.add(req.apply(Kind.POOL_DIFF_HIGH, new int[] {t, j, vars}));
        }
        slots[t] = s.stream().mapToInt(Integer::intValue).toArray();
      }
    }
    int mSlot = req.apply(Kind.MULTIPLICITIES, new int[] {0, 0, TABLE_VARS});
    alloc.place();
    witnessLength = alloc.length();
    witnessVars = Shape.log2Ceil(witnessLength);
    List<WitnessColumn> cols = new ArrayList<>();
    for (Pending p : requested) {
      cols.add(new WitnessColumn(alloc.column(Source.WITNESS, p.slot), p.kind, p.tensor, p.index));
    }
    witnessColumns = List.copyOf(cols);
    multiplicities = cols.get(mSlot).column();
    inputLimbs = Expr.limbs(cols.get(ih).column(), cols.get(il).column(), -HALF);

    List<PendingGroup> groups = new ArrayList<>();
    int inputOffsetVars = inputVars;
    groups.add(new PendingGroup(inputOffsetVars, TAG_RANGE, Expr.of(cols.get(ih).column()), null, null));
    groups.add(new PendingGroup(inputOffsetVars, TAG_RANGE, Expr.of(cols.get(il).column()), null, null));
    for (int i = 0; i < layers.size(); i++) {
      int t = i + 1;
      int vars = arch.shape(t).vars();
      Column pub = new Column(Source.PUBLIC, 0, vars);
      Layer l = layers.get(i);
      if (l instanceof Layer.Requant r) {
        int k = 0;
        Column h = null;
        Column lo = null;
        if (r.relu() || t != out) {
          h = cols.get(slots[t][k++]).column();
          lo = cols.get(slots[t][k++]).column();
          quotientExpr[t] = Expr.limbs(h, lo, -HALF);
        } else {
          quotientExpr[t] = Expr.of(pub);
        }
        if (r.relu()) {
          Column s = cols.get(slots[t][k++]).column();
          Column sh = cols.get(slots[t][k++]).column();
          Column sl = cols.get(slots[t][k++]).column();
          reluExpr[t] = Expr.limbs(sh, sl, 0);
          tensorExpr[t] = t == out ? Expr.of(pub) : reluExpr[t];
          groups.add(new PendingGroup(vars, TAG_HIGH, Expr.of(h), Expr.of(s), Expr.of(sh)));
          groups.add(new PendingGroup(vars, TAG_MASK, Expr.of(lo), Expr.of(s), Expr.of(sl)));
        } else {
          tensorExpr[t] = quotientExpr[t];
          if (t != out) {
            groups.add(new PendingGroup(vars, TAG_RANGE, Expr.of(h), null, null));
            groups.add(new PendingGroup(vars, TAG_RANGE, Expr.of(lo), null, null));
          }
        }
        int limbs = limbCount(r.shift());
        if (limbs > 0) {
          List<Term> terms = new ArrayList<>();
          for (int j = 0; j < limbs; j++) {
            Column limb = cols.get(slots[t][k++]).column();
            terms.add(new Term(limb, 1L << (LIMB_BITS * j)));
            groups.add(new PendingGroup(vars, TAG_RANGE, Expr.of(limb), null, null));
            int topBits = r.shift() - LIMB_BITS * j;
            if (j == limbs - 1 && topBits < LIMB_BITS) {
              groups.add(new PendingGroup(
                  vars, TAG_RANGE, new Expr((1L << topBits) - 1, List.of(new Term(limb, -1))), null, null));
            }
          }
          remainderExpr[t] = new Expr(0, List.copyOf(terms));
        }
      } else if (l instanceof Layer.MaxPool) {
        int k = 0;
        tensorExpr[t] = t == out ? Expr.of(pub) : Expr.of(cols.get(slots[t][k++]).column());
        diffExpr[t] = new Expr[4];
        for (int j = 0; j < 4; j++) {
          Column dl = cols.get(slots[t][k++]).column();
          Column dh = cols.get(slots[t][k++]).column();
          diffExpr[t][j] = Expr.limbs(dh, dl, 0);
          groups.add(new PendingGroup(vars, TAG_RANGE, Expr.of(dl), null, null));
          groups.add(new PendingGroup(vars, TAG_RANGE, Expr.of(dh), null, null));
        }
      } else if (t == out) {
        tensorExpr[t] = Expr.of(pub);
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
      placed.add(new LookupGroup(lookupSlots.offset(slot[g]), pg.vars, pg.tag, pg.x, pg.y, pg.w));
    }
    lookups = List.copyOf(placed);
    lookupVars = Math.max(Shape.log2Ceil(lookupSlots.length()), TABLE_VARS);

    // weight columns
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
        weightColumn[i] = weights.column(Source.WEIGHTS, wSlot[i]);
        biasColumn[i] = weights.column(Source.WEIGHTS, bSlot[i]);
      }
    }
    weightsLength = Math.max(1, weights.length());
    weightsVars = Shape.log2Ceil(weightsLength);
  }

  /** Number of 8-bit limbs of a remainder in [0, 2^shift). */
  static int limbCount(int shift) {
    return (shift + LIMB_BITS - 1) / LIMB_BITS;
  }

  private record Pending(Kind kind, int tensor, int index, int slot) {}

  private record PendingGroup(int vars, int tag, Expr x, Expr y, Expr w) {}

  TensorCommitment.Params inputParams() {
    return TensorCommitment.Params.choose(inputVars, 1 << inputVars, true);
  }

  TensorCommitment.Params witnessParams() {
    return TensorCommitment.Params.choose(witnessVars, witnessLength, true);
  }

  TensorCommitment.Params weightsParams() {
    return TensorCommitment.Params.choose(weightsVars, weightsLength, false);
  }

  /** Assigns aligned offsets to power-of-two slices: largest first, then in request order. */
  private static final class Allocator {
    private final List<Integer> vars = new ArrayList<>();
    private int[] offsets;
    private int length;

    int request(int v) {
      vars.add(v);
      return vars.size() - 1;
    }

    void place() {
      List<Integer> order = new ArrayList<>();
      for (int i = 0; i < vars.size(); i++) {
        order.add(i);
      }
      order.sort(Comparator.<Integer>comparingInt(i -> -vars.get(i)).thenComparingInt(i -> i));
      offsets = new int[vars.size()];
      long at = 0;
      for (int i : order) {
        offsets[i] = (int) at;
        at += 1L << vars.get(i);
        if (at > (1 << 28)) {
          throw new IllegalArgumentException("model is too large to prove: more than 2^28 committed values");
        }
      }
      length = (int) at;
    }

    int offset(int slot) {
      return offsets[slot];
    }

    Column column(Source s, int slot) {
      return new Column(s, offsets[slot], vars.get(slot));
    }

    int length() {
      return length;
    }
  }

  /** The table's row encoding x + beta y + beta^2 w + beta^3 tag at a point of its 10 variables. */
  static Ext tableAt(Ext[] b, Ext beta) {
    Ext low7 = Ext.ZERO;
    for (int i = 6; i >= 0; i--) {
      low7 = low7.add(low7).add(b[i]);
    }
    Ext low8 = low7.add(b[7].mul(128));
    Ext notB9 = Ext.ONE.sub(b[9]);
    Ext high = notB9.mul(b[8]); // the HIGH region
    Ext mask = b[9].mul(b[8]); // the MASK region with s = 1
    Ext y = high.mul(b[7]).add(mask);
    Ext w = high.mul(b[7]).mul(low7).add(mask.mul(low8));
    Ext tag = high.add(b[9].mul(2));
    Ext beta2 = beta.square();
    return low8.add(beta.mul(y)).add(beta2.mul(w)).add(beta2.mul(beta).mul(tag));
  }

  /** The table row of (tag, x, y, w), or -1 when it is not in the table. */
  static int tableIndex(int tag, long x, long y, long w) {
    if (x < 0 || x >= LIMB) {
      return -1;
    }
    switch (tag) {
      case TAG_RANGE:
        return y == 0 && w == 0 ? (int) x : -1;
      case TAG_HIGH:
        long s = x >= LIMB / 2 ? 1 : 0;
        return y == s && w == s * (x - LIMB / 2) ? (int) (LIMB + x) : -1;
      case TAG_MASK:
        return (y == 0 || y == 1) && w == y * x ? (int) (2 * LIMB + LIMB * y + x) : -1;
      default:
        return -1;
    }
  }

  /** (x, y, w, tag) of table row i. */
  static long[] tableRow(int i) {
    long x = i & (LIMB - 1);
    int region = i >>> LIMB_BITS;
    return switch (region) {
      case 0 -> new long[] {x, 0, 0, TAG_RANGE};
      case 1 -> {
        long s = x >= LIMB / 2 ? 1 : 0;
        yield new long[] {x, s, s * (x - LIMB / 2), TAG_HIGH};
      }
      default -> {
        long s = region - 2;
        yield new long[] {x, s, s * x, TAG_MASK};
      }
    };
  }
}
