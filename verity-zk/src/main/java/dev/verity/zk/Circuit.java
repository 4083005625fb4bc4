package dev.verity.zk;

import dev.verity.zk.field.Ext;
import dev.verity.zk.iop.Masking;
import dev.verity.zk.iop.ZkSumCheck;
import dev.verity.zk.pcs.TensorCommitment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * How a proof of inference is laid out for an architecture; derived identically by prover and
 * verifier from public data.
 *
 * <p>Four committed vectors: the <i>input</i> (the user's hiding input commitment: the input and
 * its mask), the <i>witness</i> (per proof, hiding), the <i>helpers</i> of the lookup argument (per
 * proof, hiding, committed after the lookup challenges) and the <i>weights</i> (per model,
 * deterministic). Each holds power-of-two aligned <i>columns</i>. Every private column has a
 * {@link Masking} mask next to it, so that proofs only ever reveal evaluations of masked
 * polynomials. The output tensor is public. The outputs of dense, convolution, sum pooling and add
 * layers are <i>virtual</i>: never committed, they appear only inside the sum-check of the
 * rescaling that reads them.
 *
 * <p>Activations are int16 and are handled as two 8-bit limbs: a rescaled value z is committed as
 * h, l with z = 256 h + l - 2^15. A ReLU output is committed as s = [z >= 0], sh = s (h - 128) and
 * sl = s l, so that relu(z) = s z = 256 sh + sl is linear in committed columns. Remainders are
 * committed as 8-bit limbs; max pooling commits the window maximum and the four differences to the
 * window's elements as limbs. All limbs are checked with lookups into one table of 1024 rows
 * (x, y, w) with a tag: RANGE (v, 0, 0) for v in [0, 256); HIGH (h, [h >= 128], [h >= 128] (h -
 * 128)); MASK (l, s, s l) for s in {0, 1}. A lookup is encoded as x + beta y + beta^2 w + beta^3
 * tag.
 *
 * <p>Every relation is proven by a zero-knowledge sum-check ({@link Check}); each has a committed
 * masking polynomial in the witness.
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
    HELPERS,
    WEIGHTS,
    PUBLIC
  }

  /**
   * A vector slice [offset, offset + 2^vars) read as a multilinear polynomial, and where its mask
   * coefficients lie in the same vector (-1 for public and weight columns, which are not masked).
   */
  record Column(Source source, int offset, int vars, int maskOffset) {
    boolean masked() {
      return maskOffset >= 0;
    }

    /** log2 of the mask slice's length. */
    int maskLogLength() {
      return Shape.log2Ceil(2 * Masking.coefficients(vars));
    }
  }

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

    static Window[] of(Shape pooled) {
      Window[] out = new Window[4];
      int k = 0;
      for (int dy = 0; dy < 2; dy++) {
        for (int dx = 0; dx < 2; dx++) {
          out[k++] = new Window(pooled.logWidth(), pooled.logHeight(), dx, dy);
        }
      }
      return out;
    }
  }

  /** coefficient * column(x). */
  record Term(Column column, long coefficient) {}

  /** constant + sum of terms: an affine function of columns of the same domain. */
  record Expr(long constant, List<Term> terms) {
    static Expr of(Column c) {
      return new Expr(0, List.of(new Term(c, 1)));
    }

    /** 256 hi + lo + constant. */
    static Expr limbs(Column hi, Column lo, long constant) {
      return new Expr(constant, List.of(new Term(hi, LIMB), new Term(lo, 1)));
    }

    int vars() {
      return terms.get(0).column().vars();
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

  /**
   * Lookups of x + beta y + beta^2 w + beta^3 tag for every point of a domain, with the helper
   * column 1 / (alpha - lookup) committed as its two coordinates.
   */
  record LookupGroup(int vars, int tag, Expr x, Expr y, Expr w, Column helperRe, Column helperIm) {}

  /** What a zero-knowledge sum-check establishes. */
  enum CheckKind {
    LOOKUPS,
    INPUT_LIMBS,
    REQUANT,
    MAX_POOL,
    OUTPUT
  }

  /** One zero-knowledge sum-check of the protocol, in proof order, with its masking polynomial. */
  record Check(CheckKind kind, int tensor, int vars, int degree, Column maskPoly) {}

  final Architecture arch;
  /** Tensor t as an expression over columns (public for the output), or null when virtual. */
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
  /**
   * For pooling layer i, window j and term k of the pooled tensor's expression: the offset of a
   * fresh mask (in that term's column's vector) that hides the column's value at the window point.
   */
  final int[][][] windowMasks;
  final Column inputColumn;
  final Column[] weightColumn;
  final Column[] biasColumn;
  final Column multiplicities;
  final Column tableHelperRe;
  final Column tableHelperIm;
  final List<WitnessColumn> witnessColumns;
  final List<LookupGroup> lookups;
  final List<Check> checks;
  final int lookupVars;
  final int inputVars;
  final int inputLength;
  final int witnessVars;
  final int witnessLength;
  final int helperVars;
  final int helperLength;
  final int weightsVars;
  final int weightsLength;

  Circuit(Architecture arch) {
    this.arch = arch;
    int n = arch.tensorCount();
    int out = arch.outputTensor();
    List<Layer> layers = arch.layers();
    checkEvaluationCounts(arch);
    tensorExpr = new Expr[n];
    quotientExpr = new Expr[n];
    remainderExpr = new Expr[n];
    reluExpr = new Expr[n];
    diffExpr = new Expr[n][];
    weightColumn = new Column[layers.size()];
    biasColumn = new Column[layers.size()];

    // the input commitment: the input and its mask
    int inVars = arch.inputShape().vars();
    Allocator input = new Allocator(Source.INPUT);
    int inSlot = input.masked(inVars);

    // witness columns, requested in a fixed order and placed largest first
    Allocator wit = new Allocator(Source.WITNESS);
    List<int[]> requested = new ArrayList<>(); // {kind, tensor, index, slot}
    int ih = request(wit, requested, Kind.INPUT_HIGH, 0, 0, inVars);
    int il = request(wit, requested, Kind.INPUT_LOW, 0, 0, inVars);
    int[][] slots = new int[n][];
    for (int i = 0; i < layers.size(); i++) {
      int t = i + 1;
      int vars = arch.shape(t).vars();
      Layer l = layers.get(i);
      List<Integer> s = new ArrayList<>();
      if (l instanceof Layer.Requant r) {
        if (r.relu() || t != out) {
          s.add(request(wit, requested, Kind.HIGH, t, 0, vars));
          s.add(request(wit, requested, Kind.LOW, t, 0, vars));
        }
        if (r.relu()) {
          s.add(request(wit, requested, Kind.SIGN, t, 0, vars));
          s.add(request(wit, requested, Kind.SIGN_HIGH, t, 0, vars));
          s.add(request(wit, requested, Kind.SIGN_LOW, t, 0, vars));
        }
        for (int k = 0; k < limbCount(r.shift()); k++) {
          s.add(request(wit, requested, Kind.REMAINDER_LIMB, t, k, vars));
        }
      } else if (l instanceof Layer.MaxPool) {
        if (t != out) {
          s.add(request(wit, requested, Kind.POOL_MAX, t, 0, vars));
        }
        for (int j = 0; j < 4; j++) {
          s.add(request(wit, requested, Kind.POOL_DIFF_LOW, t, j, vars));
          s.add(request(wit, requested, Kind.POOL_DIFF_HIGH, t, j, vars));
        }
      }
      slots[t] = s.stream().mapToInt(Integer::intValue).toArray();
    }
    int mSlot = request(wit, requested, Kind.MULTIPLICITIES, 0, 0, TABLE_VARS);

    // fresh masks for every column read at the four window points of a pooling
    int[][][] windowSlot = new int[layers.size()][][];
    for (int i = 0; i < layers.size(); i++) {
      Layer l = layers.get(i);
      if (l instanceof Layer.MaxPool || l instanceof Layer.SumPool) {
        int x = l.inputs()[0];
        Allocator a = x == 0 ? input : wit;
        int pooledVars = arch.shape(i + 1).vars();
        windowSlot[i] = new int[4][termCount(arch, x)];
        for (int j = 0; j < 4; j++) {
          for (int k = 0; k < windowSlot[i][j].length; k++) {
            windowSlot[i][j][k] = a.plain(Shape.log2Ceil(2 * Masking.coefficients(pooledVars)));
          }
        }
      }
    }
    input.place();
    inputColumn = input.column(inSlot);
    inputLength = input.length();
    inputVars = Shape.log2Ceil(inputLength);
    tensorExpr[0] = Expr.of(inputColumn);

    // lookup groups and their helpers
    Allocator help = new Allocator(Source.HELPERS);
    // expressions can only be built after placement, so groups are recorded by slot first
    record G(int vars, int tag, long constX, int[] xSlots, long[] xCoeffs, int ySlot, int wSlot, int re, int im) {}
    List<G> pending = new ArrayList<>();
    java.util.function.Function<G, G> add =
        g -> {
          pending.add(g);
          return g;
        };
    add.apply(new G(inVars, TAG_RANGE, 0, new int[] {ih}, new long[] {1}, -1, -1, help.masked(inVars), help.masked(inVars)));
    add.apply(new G(inVars, TAG_RANGE, 0, new int[] {il}, new long[] {1}, -1, -1, help.masked(inVars), help.masked(inVars)));
    for (int i = 0; i < layers.size(); i++) {
      int t = i + 1;
      int vars = arch.shape(t).vars();
      Layer l = layers.get(i);
      int[] s = slots[t];
      if (l instanceof Layer.Requant r) {
        int k = 0;
        int h = -1;
        int lo = -1;
        if (r.relu() || t != out) {
          h = s[k++];
          lo = s[k++];
        }
        if (r.relu()) {
          int sg = s[k++];
          int sh = s[k++];
          int sl = s[k++];
          add.apply(new G(vars, TAG_HIGH, 0, new int[] {h}, new long[] {1}, sg, sh, help.masked(vars), help.masked(vars)));
          add.apply(new G(vars, TAG_MASK, 0, new int[] {lo}, new long[] {1}, sg, sl, help.masked(vars), help.masked(vars)));
        } else if (t != out) {
          add.apply(new G(vars, TAG_RANGE, 0, new int[] {h}, new long[] {1}, -1, -1, help.masked(vars), help.masked(vars)));
          add.apply(new G(vars, TAG_RANGE, 0, new int[] {lo}, new long[] {1}, -1, -1, help.masked(vars), help.masked(vars)));
        }
        int limbs = limbCount(r.shift());
        for (int j = 0; j < limbs; j++) {
          int limb = s[k++];
          add.apply(new G(vars, TAG_RANGE, 0, new int[] {limb}, new long[] {1}, -1, -1, help.masked(vars), help.masked(vars)));
          int topBits = r.shift() - LIMB_BITS * j;
          if (j == limbs - 1 && topBits < LIMB_BITS) {
            add.apply(new G(vars, TAG_RANGE, (1L << topBits) - 1, new int[] {limb}, new long[] {-1}, -1, -1,
                help.masked(vars), help.masked(vars)));
          }
        }
      } else if (l instanceof Layer.MaxPool) {
        int k = t != out ? 1 : 0;
        for (int j = 0; j < 8; j++) {
          add.apply(new G(vars, TAG_RANGE, 0, new int[] {s[k + j]}, new long[] {1}, -1, -1, help.masked(vars), help.masked(vars)));
        }
      }
    }
    int qRe = help.masked(TABLE_VARS);
    int qIm = help.masked(TABLE_VARS);
    help.place();
    helperLength = help.length();
    helperVars = Shape.log2Ceil(helperLength);
    tableHelperRe = help.column(qRe);
    tableHelperIm = help.column(qIm);
    int maxGroupVars = TABLE_VARS;
    for (G g : pending) {
      maxGroupVars = Math.max(maxGroupVars, g.vars);
    }
    lookupVars = maxGroupVars;

    // the zero-knowledge sum-checks, each with a masking polynomial in the witness
    List<int[]> checkSpecs = new ArrayList<>(); // {kind, tensor, vars, degree, slot}
    checkSpecs.add(check(wit, CheckKind.LOOKUPS, 0, lookupVars, 5));
    checkSpecs.add(check(wit, CheckKind.INPUT_LIMBS, 0, inVars, 3));
    for (int i = layers.size() - 1; i >= 0; i--) {
      int t = i + 1;
      Layer l = layers.get(i);
      int vars = arch.shape(t).vars();
      if (l instanceof Layer.Requant r) {
        int u = r.input();
        int cv = vars;
        if (u != 0 && isVirtual(arch.producer(u), u, out)) {
          cv = Math.max(cv, linearInputVars(arch, u));
        }
        checkSpecs.add(check(wit, CheckKind.REQUANT, t, cv, 3));
      } else if (l instanceof Layer.MaxPool) {
        checkSpecs.add(check(wit, CheckKind.MAX_POOL, t, vars, 9));
      } else if (t == out) {
        checkSpecs.add(check(wit, CheckKind.OUTPUT, t, Math.max(vars, linearInputVars(arch, t)), 3));
      }
    }
    wit.place();
    windowMasks = new int[layers.size()][][];
    for (int i = 0; i < layers.size(); i++) {
      if (windowSlot[i] != null) {
        Allocator a = layers.get(i).inputs()[0] == 0 ? input : wit;
        windowMasks[i] = new int[4][];
        for (int j = 0; j < 4; j++) {
          windowMasks[i][j] = new int[windowSlot[i][j].length];
          for (int k = 0; k < windowMasks[i][j].length; k++) {
            windowMasks[i][j][k] = a.column(windowSlot[i][j][k]).offset();
          }
        }
      }
    }
    witnessLength = wit.length();
    witnessVars = Shape.log2Ceil(witnessLength);

    List<WitnessColumn> cols = new ArrayList<>();
    for (int[] r : requested) {
      cols.add(new WitnessColumn(wit.column(r[3]), Kind.values()[r[0]], r[1], r[2]));
    }
    witnessColumns = List.copyOf(cols);
    multiplicities = wit.column(mSlot);
    inputLimbs = Expr.limbs(wit.column(ih), wit.column(il), -HALF);
    List<Check> checkList = new ArrayList<>();
    for (int[] c : checkSpecs) {
      checkList.add(new Check(CheckKind.values()[c[0]], c[1], c[2], c[3], wit.column(c[4])));
    }
    checks = List.copyOf(checkList);

    // expressions of every committed tensor
    for (int i = 0; i < layers.size(); i++) {
      int t = i + 1;
      int vars = arch.shape(t).vars();
      Column pub = new Column(Source.PUBLIC, 0, vars, -1);
      Layer l = layers.get(i);
      int[] s = slots[t];
      if (l instanceof Layer.Requant r) {
        int k = 0;
        if (r.relu() || t != out) {
          Column h = wit.column(s[k++]);
          Column lo = wit.column(s[k++]);
          quotientExpr[t] = Expr.limbs(h, lo, -HALF);
        } else {
          quotientExpr[t] = Expr.of(pub);
        }
        if (r.relu()) {
          k++; // the sign column
          Column sh = wit.column(s[k++]);
          Column sl = wit.column(s[k++]);
          reluExpr[t] = Expr.limbs(sh, sl, 0);
          tensorExpr[t] = t == out ? Expr.of(pub) : reluExpr[t];
        } else {
          tensorExpr[t] = quotientExpr[t];
        }
        int limbs = limbCount(r.shift());
        if (limbs > 0) {
          List<Term> terms = new ArrayList<>();
          for (int j = 0; j < limbs; j++) {
            terms.add(new Term(wit.column(s[k++]), 1L << (LIMB_BITS * j)));
          }
          remainderExpr[t] = new Expr(0, List.copyOf(terms));
        }
      } else if (l instanceof Layer.MaxPool) {
        int k = 0;
        tensorExpr[t] = t == out ? Expr.of(pub) : Expr.of(wit.column(s[k++]));
        diffExpr[t] = new Expr[4];
        for (int j = 0; j < 4; j++) {
          Column dl = wit.column(s[k++]);
          Column dh = wit.column(s[k++]);
          diffExpr[t][j] = Expr.limbs(dh, dl, 0);
        }
      } else if (t == out) {
        tensorExpr[t] = Expr.of(pub);
      }
    }
    List<LookupGroup> placed = new ArrayList<>();
    for (G g : pending) {
      List<Term> xt = new ArrayList<>();
      for (int j = 0; j < g.xSlots.length; j++) {
        xt.add(new Term(wit.column(g.xSlots[j]), g.xCoeffs[j]));
      }
      Expr x = new Expr(g.constX, List.copyOf(xt));
      Expr y = g.ySlot < 0 ? null : Expr.of(wit.column(g.ySlot));
      Expr w = g.wSlot < 0 ? null : Expr.of(wit.column(g.wSlot));
      placed.add(new LookupGroup(g.vars, g.tag, x, y, w, help.column(g.re), help.column(g.im)));
    }
    lookups = List.copyOf(placed);

    // weight columns
    Allocator weights = new Allocator(Source.WEIGHTS);
    int[] wSlot = new int[layers.size()];
    int[] bSlot = new int[layers.size()];
    for (int i = 0; i < layers.size(); i++) {
      Layer l = layers.get(i);
      if (l instanceof Layer.Dense d) {
        int outVars = arch.shape(i + 1).vars();
        wSlot[i] = weights.plain(arch.shape(d.input()).vars() + outVars);
        bSlot[i] = weights.plain(outVars);
      } else if (l instanceof Layer.Conv2d c) {
        int kv = Shape.log2Ceil(c.kernel());
        int ci = arch.shape(c.input()).logChannels();
        int co = arch.shape(i + 1).logChannels();
        wSlot[i] = weights.plain(2 * kv + ci + co);
        bSlot[i] = weights.plain(co);
      }
    }
    weights.place();
    for (int i = 0; i < layers.size(); i++) {
      Layer l = layers.get(i);
      if (l instanceof Layer.Dense || l instanceof Layer.Conv2d) {
        weightColumn[i] = weights.column(wSlot[i]);
        biasColumn[i] = weights.column(bSlot[i]);
      }
    }
    weightsLength = Math.max(1, weights.length());
    weightsVars = Shape.log2Ceil(weightsLength);
  }

  /**
   * Zero knowledge holds while every column is evaluated at no more random points than its mask
   * can hide ({@link Masking#capacity}): once for the lookups, once for its own check, once per
   * reader other than pooling (whose window reads carry fresh masks), once more for the input's
   * limb check.
   */
  static void checkEvaluationCounts(Architecture arch) {
    int[] evaluations = new int[arch.tensorCount()];
    java.util.Arrays.fill(evaluations, 2);
    evaluations[0]++;
    for (Layer l : arch.layers()) {
      if (!(l instanceof Layer.MaxPool || l instanceof Layer.SumPool)) {
        for (int t : l.inputs()) {
          evaluations[t]++;
        }
      }
    }
    for (int t = 0; t < arch.tensorCount(); t++) {
      int capacity = Masking.capacity(arch.shape(t).vars());
      if (evaluations[t] > capacity) {
        throw new IllegalArgumentException(
            "tensor " + t + " (" + arch.shape(t) + ") is read too often for its mask to hide it; read it through fewer layers");
      }
    }
  }

  /** Number of columns in the expression of committed tensor x (the input, a rescaling, a max pooling). */
  private static int termCount(Architecture arch, int x) {
    if (x == 0) {
      return 1;
    }
    return arch.producer(x) instanceof Layer.Requant ? 2 : 1;
  }

  private static int request(Allocator a, List<int[]> requested, Kind kind, int tensor, int index, int vars) {
    int slot = a.masked(vars);
    requested.add(new int[] {kind.ordinal(), tensor, index, slot});
    return slot;
  }

  private static int[] check(Allocator a, CheckKind kind, int tensor, int vars, int degree) {
    int slot = a.plain(Shape.log2Ceil(2 * ZkSumCheck.Mask.size(vars, degree)));
    return new int[] {kind.ordinal(), tensor, vars, degree, slot};
  }

  /** True for the output of a dense, convolution, sum pooling or add layer that is not public. */
  static boolean isVirtual(Layer producer, int t, int out) {
    return t != out && !(producer instanceof Layer.Requant) && !(producer instanceof Layer.MaxPool);
  }

  /** Variables of the domain a linear layer's output is computed from (its input's, or its own). */
  static int linearInputVars(Architecture arch, int t) {
    Layer p = arch.producer(t);
    return switch (p) {
      case Layer.Dense d -> arch.shape(d.input()).vars();
      case Layer.Conv2d c -> arch.shape(c.input()).vars();
      default -> arch.shape(t).vars();
    };
  }

  /** Number of 8-bit limbs of a remainder in [0, 2^shift). */
  static int limbCount(int shift) {
    return (shift + LIMB_BITS - 1) / LIMB_BITS;
  }

  TensorCommitment.Params inputParams() {
    return TensorCommitment.Params.choose(inputVars, inputLength, true);
  }

  TensorCommitment.Params witnessParams() {
    return TensorCommitment.Params.choose(witnessVars, witnessLength, true);
  }

  TensorCommitment.Params helperParams() {
    return TensorCommitment.Params.choose(helperVars, helperLength, true);
  }

  TensorCommitment.Params weightsParams() {
    return TensorCommitment.Params.choose(weightsVars, weightsLength, false);
  }

  /**
   * Assigns aligned offsets to power-of-two slices, largest first and then in request order. A
   * masked column requests its data slice and a slice for its mask coefficients.
   */
  private static final class Allocator {
    private final Source source;
    private final List<Integer> vars = new ArrayList<>();
    private final List<Integer> maskSlot = new ArrayList<>();
    private int[] offsets;
    private int length;

    Allocator(Source source) {
      this.source = source;
    }

    int plain(int v) {
      vars.add(v);
      maskSlot.add(-1);
      return vars.size() - 1;
    }

    int masked(int v) {
      int data = plain(v);
      int mask = plain(Shape.log2Ceil(2 * Masking.coefficients(v)));
      maskSlot.set(data, mask);
      return data;
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
        if (at > (1 << 27)) {
          throw new IllegalArgumentException("model is too large to prove: more than 2^27 committed values");
        }
      }
      length = (int) at;
    }

    Column column(int slot) {
      int m = maskSlot.get(slot);
      return new Column(source, offsets[slot], vars.get(slot), m < 0 ? -1 : offsets[m]);
    }

    int length() {
      return Math.max(1, length);
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
