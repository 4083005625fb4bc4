package dev.verity.zk;

import dev.verity.zk.Circuit.Column;
import dev.verity.zk.Circuit.Expr;
import dev.verity.zk.Circuit.LookupGroup;
import dev.verity.zk.Circuit.Source;
import dev.verity.zk.Circuit.Term;
import dev.verity.zk.Circuit.Window;
import dev.verity.zk.Circuit.WitnessColumn;
import dev.verity.zk.field.Ext;
import dev.verity.zk.field.Goldilocks;
import dev.verity.zk.iop.FractionSum;
import dev.verity.zk.iop.Mle;
import dev.verity.zk.iop.Parallel;
import dev.verity.zk.iop.ProverChannel;
import dev.verity.zk.iop.SumCheck;
import dev.verity.zk.pcs.LinearClaim;
import dev.verity.zk.pcs.Prg;
import dev.verity.zk.pcs.TensorCommitment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The prover of {@link ZkInference}; one instance per proof. See docs/ZK.md for the protocol. */
final class InferenceProver {
  private final ProvingKey pk;
  private final Circuit c;
  private final Architecture arch;
  private final Trace trace;
  private ProverChannel ch;
  private long[] inputVec;
  private long[] witnessVec;
  private long[] publicVec;
  private final long[][] fieldValues;
  private final List<List<LinearClaim>> claims = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
  private final List<List<Claim>> pending = new ArrayList<>();

  /** A claim about a virtual tensor's extension at a point. */
  record Claim(Ext[] point, Ext value) {}

  private InferenceProver(ProvingKey pk, long[] input) {
    this.pk = pk;
    this.c = pk.circuit();
    this.arch = c.arch;
    this.trace = Trace.of(pk.model(), input);
    this.fieldValues = new long[arch.tensorCount()][];
    for (int t = 0; t < arch.tensorCount(); t++) {
      pending.add(new ArrayList<>());
    }
  }

  /**
   * Changes the witness and the claimed output before anything is committed: the hook of a
   * dishonest prover, used by soundness tests. Everything after it is computed from the changed
   * values, as a cheating prover would.
   */
  interface Tamper {
    void apply(Circuit circuit, long[] witness, long[] output);
  }

  static ProvedInference prove(ProvingKey pk, long[] input, Blinding blinding) {
    return new InferenceProver(pk, input).run(input, blinding, null);
  }

  static ProvedInference proveTampered(ProvingKey pk, long[] input, Blinding blinding, Tamper tamper) {
    return new InferenceProver(pk, input).run(input, blinding, tamper);
  }

  private ProvedInference run(long[] input, Blinding blinding, Tamper tamper) {
    TensorCommitment.Committed inCom = InputCommitment.commit(arch, input, blinding);
    inputVec = fieldTensor(0);
    long[] output = trace.logicalOutput();
    witnessVec = new long[c.witnessLength];
    for (WitnessColumn wc : c.witnessColumns) {
      fill(wc);
    }
    if (tamper != null) {
      tamper.apply(c, witnessVec, output);
    }
    Shape os = arch.outputShape();
    publicVec = new long[os.paddedSize()];
    for (int i = 0; i < output.length; i++) {
      publicVec[os.physicalIndexOfFlat(i)] = Goldilocks.fromLong(output[i]);
    }
    Statement statement = new Statement(pk.verifyingKey(), InputCommitment.fromBytes(inCom.root()), output);
    long[] counts = multiplicities(tamper != null);
    System.arraycopy(counts, 0, witnessVec, c.multiplicities.offset(), counts.length);
    TensorCommitment.Committed witCom =
        TensorCommitment.commit(witnessVec, c.witnessVars, true, Prg.fresh("witness"));

    ch = new ProverChannel(ZkInference.transcript(statement));
    ch.sendBytes(witCom.root());
    proveLookups();
    ch.label("input");
    Ext[] tau = ch.challenges("input", c.inputVars);
    evalExpr(c.tensorExpr[0], tau);
    evalExpr(c.inputLimbs, tau);
    for (int i = arch.layers().size() - 1; i >= 0; i--) {
      proveLayer(i);
    }
    ch.label("openings");
    TensorCommitment.open(ch, inCom, claims.get(Source.INPUT.ordinal()));
    TensorCommitment.open(ch, witCom, claims.get(Source.WITNESS.ordinal()));
    if (!claims.get(Source.WEIGHTS.ordinal()).isEmpty()) {
      TensorCommitment.open(ch, pk.weightsCommitment(), claims.get(Source.WEIGHTS.ordinal()));
    }
    return new ProvedInference(statement, Proof.ofBody(ch.toBytes()));
  }

  private long[] fieldTensor(int t) {
    if (fieldValues[t] == null) {
      long[] v = trace.values[t];
      long[] out = new long[v.length];
      for (int i = 0; i < v.length; i++) {
        out[i] = Goldilocks.fromLong(v[i]);
      }
      fieldValues[t] = out;
    }
    return fieldValues[t];
  }

  /** Writes one witness column from the trace. */
  private void fill(WitnessColumn wc) {
    int off = wc.column().offset();
    int size = 1 << wc.column().vars();
    int t = wc.tensor();
    for (int x = 0; x < size; x++) {
      long v =
          switch (wc.kind()) {
            case INPUT_HIGH -> (trace.values[0][x] + Circuit.HALF) >> Circuit.LIMB_BITS;
            case INPUT_LOW -> (trace.values[0][x] + Circuit.HALF) & (Circuit.LIMB - 1);
            case HIGH -> (trace.quotients[t][x] + Circuit.HALF) >> Circuit.LIMB_BITS;
            case LOW -> (trace.quotients[t][x] + Circuit.HALF) & (Circuit.LIMB - 1);
            case SIGN -> trace.quotients[t][x] >= 0 ? 1 : 0;
            case SIGN_HIGH -> trace.quotients[t][x] >= 0 ? ((trace.quotients[t][x] + Circuit.HALF) >> Circuit.LIMB_BITS) - Circuit.LIMB / 2 : 0;
            case SIGN_LOW -> trace.quotients[t][x] >= 0 ? (trace.quotients[t][x] + Circuit.HALF) & (Circuit.LIMB - 1) : 0;
            case REMAINDER_LIMB -> (trace.remainders[t][x] >> (Circuit.LIMB_BITS * wc.index())) & (Circuit.LIMB - 1);
            case POOL_MAX -> trace.values[t][x];
            case POOL_DIFF_LOW -> poolDiff(t, wc.index(), x) & (Circuit.LIMB - 1);
            case POOL_DIFF_HIGH -> poolDiff(t, wc.index(), x) >> Circuit.LIMB_BITS;
            case MULTIPLICITIES -> 0;
          };
      witnessVec[off + x] = Goldilocks.fromLong(v);
    }
  }

  private long poolDiff(int t, int j, int x) {
    Layer.MaxPool m = (Layer.MaxPool) arch.producer(t);
    Window w = windows(arch.shape(t))[j];
    return trace.values[t][x] - trace.values[m.input()][w.apply(x)];
  }

  private long[] vector(Source s) {
    return switch (s) {
      case INPUT -> inputVec;
      case WITNESS -> witnessVec;
      case WEIGHTS -> pk.weights();
      case PUBLIC -> publicVec;
    };
  }

  // ---------------------------------------------------------------- claims

  /** Sends column(point) unless public, and records the claim for the commitment opening. */
  private Ext open(Column col, Ext[] point) {
    Ext v = Mle.evaluate(vector(col.source()), col.offset(), 1 << col.vars(), point);
    if (col.source() != Source.PUBLIC) {
      ch.send(v);
      claims.get(col.source().ordinal()).add(LinearClaim.eval(col.offset(), point, v));
    }
    return v;
  }

  private Ext evalExpr(Expr e, Ext[] point) {
    Ext v = Ext.ofLong(e.constant());
    for (Term term : e.terms()) {
      v = v.add(open(term.column(), point).mul(Goldilocks.fromLong(term.coefficient())));
    }
    return v;
  }

  /** Establishes tensor t's value at a point that the verifier has derived. */
  private void claimTensor(int t, Ext[] point, Ext value) {
    if (c.tensorExpr[t] == null) {
      pending.get(t).add(new Claim(point, value));
    } else {
      evalExpr(c.tensorExpr[t], point);
    }
  }

  /** Sends tensor t's value at a point (as its columns, or directly if virtual) and records it. */
  private Ext tensorValue(int t, Ext[] point) {
    if (c.tensorExpr[t] != null) {
      return evalExpr(c.tensorExpr[t], point);
    }
    Ext v = Mle.evaluate(fieldTensor(t), point);
    ch.send(v);
    pending.get(t).add(new Claim(point, v));
    return v;
  }

  // ---------------------------------------------------------------- lookups

  private long exprAt(Expr e, int x) {
    if (e == null) {
      return 0;
    }
    long v = e.constant();
    for (Term term : e.terms()) {
      Column col = term.column();
      v += term.coefficient() * Goldilocks.toSigned(vector(col.source())[col.offset() + x]);
    }
    return v;
  }

  private long[] multiplicities(boolean lenient) {
    long[] m = new long[1 << Circuit.TABLE_VARS];
    long used = 0;
    for (LookupGroup g : c.lookups) {
      int size = 1 << g.vars();
      used += size;
      for (int x = 0; x < size; x++) {
        int index = Circuit.tableIndex(g.tag(), exprAt(g.x(), x), exprAt(g.y(), x), exprAt(g.w(), x));
        if (index >= 0) {
          m[index]++;
        } else if (!lenient) {
          throw new IllegalStateException("inference trace violates a lookup of tag " + g.tag());
        }
      }
    }
    m[0] += (1L << c.lookupVars) - used;
    return m;
  }

  /** The encoding x + beta y + beta^2 w + beta^3 tag of integer entries. */
  private static void encode(long x, long y, long w, long tag, Ext[] powers, long[] out, int at) {
    long fx = Goldilocks.fromLong(x);
    long c0 = fx;
    long c1 = 0;
    long[] ys = {y, w, tag};
    for (int k = 0; k < 3; k++) {
      if (ys[k] != 0) {
        long f = Goldilocks.fromLong(ys[k]);
        c0 = Goldilocks.add(c0, Goldilocks.mul(powers[k].c0(), f));
        c1 = Goldilocks.add(c1, Goldilocks.mul(powers[k].c1(), f));
      }
    }
    out[2 * at] = c0;
    out[2 * at + 1] = c1;
  }

  private void proveLookups() {
    ch.label("lookups");
    Ext beta = ch.challenge("lookup-beta");
    Ext alpha = ch.challenge("lookup-alpha");
    Ext[] powers = {beta, beta.square(), beta.square().mul(beta)};
    int n = c.lookupVars;
    int size = 1 << n;
    long[] p = new long[4 * size];
    long[] q = new long[4 * size];
    long[] f = new long[2 * size];
    for (LookupGroup g : c.lookups) {
      for (int x = 0; x < (1 << g.vars()); x++) {
        encode(exprAt(g.x(), x), exprAt(g.y(), x), exprAt(g.w(), x), g.tag(), powers, f, g.offset() + x);
      }
    }
    for (int i = 0; i < size; i++) {
      p[2 * i] = 1;
      q[2 * i] = Goldilocks.sub(alpha.c0(), f[2 * i]);
      q[2 * i + 1] = Goldilocks.sub(alpha.c1(), f[2 * i + 1]);
    }
    int tableSize = 1 << Circuit.TABLE_VARS;
    long[] table = new long[2 * tableSize];
    for (int i = 0; i < tableSize; i++) {
      long[] row = Circuit.tableRow(i);
      encode(row[0], row[1], row[2], row[3], powers, table, i);
    }
    int mOff = c.multiplicities.offset();
    for (int i = 0; i < size; i++) {
      int at = size + i;
      if (i < tableSize) {
        p[2 * at] = Goldilocks.neg(witnessVec[mOff + i]);
      }
      int t = i & (tableSize - 1);
      q[2 * at] = Goldilocks.sub(alpha.c0(), table[2 * t]);
      q[2 * at + 1] = Goldilocks.sub(alpha.c1(), table[2 * t + 1]);
    }
    FractionSum.LeafClaim leaf = FractionSum.prove(ch, p, q, n + 1);
    Ext[] rest = Arrays.copyOf(leaf.point(), n);
    open(c.multiplicities, Arrays.copyOf(rest, Circuit.TABLE_VARS));
    for (LookupGroup g : c.lookups) {
      Ext[] local = Arrays.copyOf(rest, g.vars());
      evalExpr(g.x(), local);
      if (g.y() != null) {
        evalExpr(g.y(), local);
      }
      if (g.w() != null) {
        evalExpr(g.w(), local);
      }
    }
  }

  // ---------------------------------------------------------------- layers

  private List<Claim> claimsOn(int t) {
    List<Claim> list = pending.get(t);
    if (t == arch.outputTensor() && list.isEmpty()) {
      // the public output of a linear layer: seed a claim the verifier evaluates itself
      Ext[] tau = ch.challenges("output", arch.shape(t).vars());
      list.add(new Claim(tau, Mle.evaluate(publicVec, tau)));
    }
    return list;
  }

  private void proveLayer(int i) {
    Layer layer = arch.layers().get(i);
    int t = i + 1;
    ch.label("layer");
    switch (layer) {
      case Layer.Requant r -> {
        Ext[] tau = ch.challenges("requant", arch.shape(t).vars());
        Ext z = evalExpr(c.quotientExpr[t], tau);
        Ext rem = c.remainderExpr[t] != null ? evalExpr(c.remainderExpr[t], tau) : Ext.ZERO;
        if (r.relu() && t == arch.outputTensor()) {
          evalExpr(c.reluExpr[t], tau);
        }
        claimTensor(r.input(), tau, z.mul(1L << r.shift()).add(rem));
      }
      case Layer.Dense d -> proveDense(i, d, claimsOn(t));
      case Layer.Conv2d cv -> proveConv(i, cv, claimsOn(t));
      case Layer.SumPool s -> {
        for (Claim cl : claimsOn(t)) {
          for (Window w : windows(arch.shape(t))) {
            tensorValue(s.input(), w.apply(cl.point()));
          }
        }
      }
      case Layer.Add a -> {
        for (Claim cl : claimsOn(t)) {
          Ext left = tensorValue(a.left(), cl.point());
          claimTensor(a.right(), cl.point(), cl.value().sub(left));
        }
      }
      case Layer.MaxPool m -> proveMaxPool(t, m);
    }
  }

  /** E = sum_i a^i eq(r_i, .) with the batching challenge a (one claim needs none). */
  private long[] batchedEq(List<Claim> cls, int vars) {
    Ext a = cls.size() > 1 ? ch.challenge("batch") : Ext.ONE;
    long[] e = new long[2 << vars];
    Ext s = Ext.ONE;
    for (Claim cl : cls) {
      long[] eq = Mle.eqTable(cl.point(), s);
      for (int k = 0; k < e.length; k++) {
        e[k] = Goldilocks.add(e[k], eq[k]);
      }
      s = s.mul(a);
    }
    return e;
  }

  private void proveDense(int i, Layer.Dense d, List<Claim> cls) {
    Shape in = arch.shape(d.input());
    long[] e = batchedEq(cls, arch.shape(i + 1).vars());
    for (Claim cl : cls) {
      open(c.biasColumn[i], cl.point());
    }
    int inVars = in.vars();
    int n = in.size();
    int[] w = pk.model().weightsView(i);
    long[] g = new long[2 << inVars];
    int[] phys = new int[n];
    for (int j = 0; j < n; j++) {
      phys[j] = in.physicalIndexOfFlat(j);
    }
    int outputs = d.outputs();
    // G[j] = sum_o E[o] W[o][j]
    Parallel.forRange(
        n,
        (chunk, from, to) -> {
          for (int j = from; j < to; j++) {
            long s0 = 0;
            long s1 = 0;
            for (int o = 0; o < outputs; o++) {
              int wt = w[o * n + j];
              if (wt != 0) {
                long f = Goldilocks.fromLong(wt);
                s0 = Goldilocks.add(s0, Goldilocks.mul(e[2 * o], f));
                s1 = Goldilocks.add(s1, Goldilocks.mul(e[2 * o + 1], f));
              }
            }
            g[2 * phys[j]] = s0;
            g[2 * phys[j] + 1] = s1;
          }
        });
    long[] x = Mle.lift(fieldTensor(d.input()), 1 << inVars);
    Ext[] rho = SumCheck.proveProduct(ch, g, x, inVars);
    tensorValue(d.input(), rho);
    for (Claim cl : cls) {
      open(c.weightColumn[i], concat(rho, cl.point()));
    }
  }

  static Ext[] concat(Ext[] low, Ext[] high) {
    Ext[] out = Arrays.copyOf(low, low.length + high.length);
    System.arraycopy(high, 0, out, low.length, high.length);
    return out;
  }

  private void proveConv(int i, Layer.Conv2d cv, List<Claim> cls) {
    Shape in = arch.shape(cv.input());
    Shape out = arch.shape(i + 1);
    ConvGeometry geo = new ConvGeometry(cv, in, out);
    long[] e = batchedEq(cls, out.vars());
    for (Claim cl : cls) {
      open(c.biasColumn[i], geo.channelPart(cl.point()));
    }
    int[] w = pk.model().weightsView(i);
    int k = cv.kernel();
    int ci = in.channels();
    int inVars = in.vars();
    // G(ci, y, x) = sum over outputs and kernel offsets of E(co, oy, ox) K(co, ci, ky, kx)
    long[] g = new long[2 << inVars];
    Parallel.forRange(
        ci,
        (chunk, from, to) -> {
          for (int ch0 = from; ch0 < to; ch0++) {
            for (int co = 0; co < cv.outChannels(); co++) {
              for (int ky = 0; ky < k; ky++) {
                for (int kx = 0; kx < k; kx++) {
                  int wt = w[((co * ci + ch0) * k + ky) * k + kx];
                  if (wt == 0) {
                    continue;
                  }
                  long f = Goldilocks.fromLong(wt);
                  for (int oy = 0; oy < out.height(); oy++) {
                    int iy = oy * cv.stride() + ky - cv.padding();
                    if (iy < 0 || iy >= in.height()) {
                      continue;
                    }
                    for (int ox = 0; ox < out.width(); ox++) {
                      int ix = ox * cv.stride() + kx - cv.padding();
                      if (ix < 0 || ix >= in.width()) {
                        continue;
                      }
                      int o = out.physicalIndex(co, oy, ox);
                      int di = in.physicalIndex(ch0, iy, ix);
                      g[2 * di] = Goldilocks.add(g[2 * di], Goldilocks.mul(e[2 * o], f));
                      g[2 * di + 1] = Goldilocks.add(g[2 * di + 1], Goldilocks.mul(e[2 * o + 1], f));
                    }
                  }
                }
              }
            }
          }
        });
    long[] x = Mle.lift(fieldTensor(cv.input()), 1 << inVars);
    Ext[] rho = SumCheck.proveProduct(ch, g, x, inVars);
    tensorValue(cv.input(), rho);
    ch.send(new Ext(g[0], g[1]));
    long[] h = geo.kernelWeights(e, rho);
    int kOff = c.weightColumn[i].offset();
    long[] kt = Mle.lift(Arrays.copyOfRange(pk.weights(), kOff, kOff + (1 << geo.kernelVars())), 1 << geo.kernelVars());
    Ext[] rhoK = SumCheck.proveProduct(ch, kt, h, geo.kernelVars());
    open(c.weightColumn[i], rhoK);
  }

  private void proveMaxPool(int t, Layer.MaxPool m) {
    Shape os = arch.shape(t);
    int vars = os.vars();
    Window[] windows = windows(os);
    Ext[] tau = ch.challenges("maxpool", vars);
    evalExpr(c.tensorExpr[t], tau);
    for (int j = 0; j < 4; j++) {
      evalExpr(c.tensorExpr[m.input()], windows[j].apply(tau));
      evalExpr(c.diffExpr[t][j], tau);
    }
    Ext[] tau2 = ch.challenges("maxpool-product", vars);
    long[][] tables = new long[5][];
    tables[0] = Mle.eqTable(tau2);
    for (int j = 0; j < 4; j++) {
      long[] d = new long[2 << vars];
      for (int x = 0; x < (1 << vars); x++) {
        d[2 * x] = Goldilocks.fromLong(exprAt(c.diffExpr[t][j], x));
      }
      tables[j + 1] = d;
    }
    Ext[] rho = SumCheck.prove(ch, tables, vars, new ProductKernel());
    for (int j = 0; j < 4; j++) {
      evalExpr(c.diffExpr[t][j], rho);
    }
  }

  static Window[] windows(Shape pooled) {
    Window[] out = new Window[4];
    int k = 0;
    for (int dy = 0; dy < 2; dy++) {
      for (int dx = 0; dx < 2; dx++) {
        out[k++] = new Window(pooled.logWidth(), pooled.logHeight(), dx, dy);
      }
    }
    return out;
  }

  /** eq(tau, x) D_0(x) D_1(x) D_2(x) D_3(x): zero everywhere exactly when some difference is. */
  static final class ProductKernel extends SumCheck.Kernel {
    ProductKernel() {
      super(5);
    }

    @Override
    public void accumulate(long[] v, long[] acc, int at) {
      long p0 = v[0];
      long p1 = v[1];
      for (int j = 1; j <= 4; j++) {
        long n0 = Ext.mulC0(p0, p1, v[2 * j], v[2 * j + 1]);
        p1 = Ext.mulC1(p0, p1, v[2 * j], v[2 * j + 1]);
        p0 = n0;
      }
      acc[at] = Goldilocks.add(acc[at], p0);
      acc[at + 1] = Goldilocks.add(acc[at + 1], p1);
    }
  }
}
