package dev.verity.zk;

import dev.verity.zk.Circuit.Data;
import dev.verity.zk.Circuit.LookupGroup;
import dev.verity.zk.Circuit.Poly;
import dev.verity.zk.Circuit.Source;
import dev.verity.zk.Circuit.Term;
import dev.verity.zk.Circuit.Window;
import dev.verity.zk.field.Ext;
import dev.verity.zk.field.Goldilocks;
import dev.verity.zk.iop.FractionSum;
import dev.verity.zk.iop.Mle;
import dev.verity.zk.iop.Parallel;
import dev.verity.zk.iop.ProverChannel;
import dev.verity.zk.iop.SumCheck;
import dev.verity.zk.pcs.EvalClaim;
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
  private final List<List<EvalClaim>> claims = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
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

  static ProvedInference prove(ProvingKey pk, long[] input, Blinding blinding) {
    return new InferenceProver(pk, input).run(input, blinding);
  }

  private ProvedInference run(long[] input, Blinding blinding) {
    TensorCommitment.Committed inCom = InputCommitment.commit(arch, input, blinding);
    inputVec = field(trace.values[0]);
    long[] output = trace.logicalOutput();
    publicVec = field(trace.values[arch.outputTensor()]);
    Statement statement =
        new Statement(pk.verifyingKey(), InputCommitment.fromBytes(inCom.root()), output);

    // witness: committed tensors, quotients, remainders and lookup multiplicities
    witnessVec = new long[c.witnessLength];
    for (int t = 1; t < arch.tensorCount(); t++) {
      place(c.tensorPoly[t], trace.values[t]);
      place(c.quotient[t], trace.quotients[t]);
      place(c.remainder[t], trace.remainders[t]);
    }
    long[] counts = multiplicities();
    System.arraycopy(counts, 0, witnessVec, c.multiplicities.offset(), counts.length);
    TensorCommitment.Committed witCom =
        TensorCommitment.commit(witnessVec, c.witnessVars, true, Prg.fresh("witness"));

    ch = new ProverChannel(ZkInference.transcript(statement));
    ch.sendBytes(witCom.root());
    proveLookups();
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

  private static long[] field(long[] signed) {
    long[] out = new long[signed.length];
    for (int i = 0; i < signed.length; i++) {
      out[i] = Goldilocks.fromLong(signed[i]);
    }
    return out;
  }

  private void place(Poly p, long[] values) {
    if (p != null && p.source() == Source.WITNESS) {
      for (int i = 0; i < values.length; i++) {
        witnessVec[p.offset() + i] = Goldilocks.fromLong(values[i]);
      }
    }
  }

  private long[] vector(Source s) {
    return switch (s) {
      case INPUT -> inputVec;
      case WITNESS -> witnessVec;
      case WEIGHTS -> pk.weights();
      case PUBLIC -> publicVec;
    };
  }

  private long[] fieldTensor(int t) {
    if (fieldValues[t] == null) {
      fieldValues[t] = field(trace.values[t]);
    }
    return fieldValues[t];
  }

  private long[] integers(Term term) {
    return switch (term.data()) {
      case VALUE -> trace.values[term.tensor()];
      case QUOTIENT -> trace.quotients[term.tensor()];
      case REMAINDER -> trace.remainders[term.tensor()];
    };
  }

  // ---------------------------------------------------------------- claims

  /** Sends p~(point) unless p is public, and records the claim for the commitment opening. */
  private Ext open(Poly p, Ext[] point) {
    Ext v = Mle.evaluate(vector(p.source()), p.offset(), 1 << p.vars(), point);
    if (p.source() != Source.PUBLIC) {
      ch.send(v);
      claims.get(p.source().ordinal()).add(new EvalClaim(p.offset(), point, v));
    }
    return v;
  }

  /** Records a claim about tensor t whose value the verifier can derive (nothing is sent). */
  private void claimTensor(int t, Ext[] point, Ext value) {
    Poly p = c.tensorPoly[t];
    if (p == null) {
      pending.get(t).add(new Claim(point, value));
    } else if (p.source() != Source.PUBLIC) {
      claims.get(p.source().ordinal()).add(new EvalClaim(p.offset(), point, value));
    }
  }

  /** Sends tensor t's value at a point (unless public) and records the claim. */
  private Ext tensorValue(int t, Ext[] point) {
    Poly p = c.tensorPoly[t];
    if (p != null) {
      return open(p, point);
    }
    Ext v = Mle.evaluate(fieldTensor(t), point);
    ch.send(v);
    pending.get(t).add(new Claim(point, v));
    return v;
  }

  // ---------------------------------------------------------------- lookups

  private long[] multiplicities() {
    long[] m = new long[1 << c.tableVars];
    long used = 0;
    for (LookupGroup g : c.lookups) {
      int size = 1 << g.vars();
      used += size;
      long[][] xs = new long[g.xTerms().size()][];
      for (int k = 0; k < xs.length; k++) {
        xs[k] = integers(g.xTerms().get(k));
      }
      long[] ys = g.yTerm() == null ? null : integers(g.yTerm());
      for (int x = 0; x < size; x++) {
        long xv = g.constant();
        for (int k = 0; k < xs.length; k++) {
          Term term = g.xTerms().get(k);
          int idx = term.window() == null ? x : term.window().apply(x);
          xv += term.coefficient() * xs[k][idx];
        }
        long yv = ys == null ? 0 : ys[x];
        int index = c.tableIndex(g.tag(), xv, yv);
        if (index < 0) {
          throw new IllegalStateException("inference trace violates a lookup: (" + g.tag() + ", " + xv + ", " + yv + ")");
        }
        m[index]++;
      }
    }
    m[0] += (1L << c.lookupVars) - used;
    return m;
  }

  private void proveLookups() {
    ch.label("lookups");
    Ext beta = ch.challenge("lookup-beta");
    Ext alpha = ch.challenge("lookup-alpha");
    Ext beta2 = beta.square();
    int n = c.lookupVars;
    int size = 1 << n;
    long[] p = new long[4 * size];
    long[] q = new long[4 * size];
    // lookup side: p = 1, q = alpha - f; unused slots look up 0
    for (int i = 0; i < size; i++) {
      p[2 * i] = 1;
      q[2 * i] = alpha.c0();
      q[2 * i + 1] = alpha.c1();
    }
    for (LookupGroup g : c.lookups) {
      int gs = 1 << g.vars();
      long[][] xs = new long[g.xTerms().size()][];
      for (int k = 0; k < xs.length; k++) {
        xs[k] = integers(g.xTerms().get(k));
      }
      long[] ys = g.yTerm() == null ? null : integers(g.yTerm());
      Ext tagPart = beta2.mul(g.tag());
      for (int x = 0; x < gs; x++) {
        long xv = g.constant();
        for (int k = 0; k < xs.length; k++) {
          Term term = g.xTerms().get(k);
          int idx = term.window() == null ? x : term.window().apply(x);
          xv += term.coefficient() * xs[k][idx];
        }
        long f0 = Goldilocks.fromLong(xv);
        long f1 = 0;
        if (ys != null) {
          long y = Goldilocks.fromLong(ys[x]);
          f0 = Goldilocks.add(f0, Goldilocks.mul(beta.c0(), y));
          f1 = Goldilocks.mul(beta.c1(), y);
        }
        f0 = Goldilocks.add(f0, tagPart.c0());
        f1 = Goldilocks.add(f1, tagPart.c1());
        int at = g.offset() + x;
        q[2 * at] = Goldilocks.sub(alpha.c0(), f0);
        q[2 * at + 1] = Goldilocks.sub(alpha.c1(), f1);
      }
    }
    // table side: p = -m, q = alpha - T (the table repeats to fill the domain)
    long[] m = Arrays.copyOfRange(witnessVec, c.multiplicities.offset(), c.multiplicities.offset() + (1 << c.tableVars));
    long[] table = tableValues(beta);
    int tableSize = 1 << c.tableVars;
    for (int i = 0; i < size; i++) {
      int at = size + i;
      if (i < tableSize) {
        p[2 * at] = Goldilocks.neg(m[i]);
      }
      int t = i & (tableSize - 1);
      q[2 * at] = Goldilocks.sub(alpha.c0(), table[2 * t]);
      q[2 * at + 1] = Goldilocks.sub(alpha.c1(), table[2 * t + 1]);
    }
    FractionSum.LeafClaim leaf = FractionSum.prove(ch, p, q, n + 1);
    Ext[] rest = Arrays.copyOf(leaf.point(), n);
    open(c.multiplicities, Arrays.copyOf(rest, c.tableVars));
    for (LookupGroup g : c.lookups) {
      Ext[] local = Arrays.copyOf(rest, g.vars());
      for (Term term : g.xTerms()) {
        open(term.poly(), term.window() == null ? local : term.window().apply(local));
      }
      if (g.yTerm() != null) {
        open(g.yTerm().poly(), local);
      }
    }
  }

  /** x + beta y + beta^2 tag for every table entry, interleaved. */
  private long[] tableValues(Ext beta) {
    int bits = c.bits;
    int size = 1 << c.tableVars;
    long[] out = new long[2 * size];
    Ext beta2 = beta.square();
    long half = 1L << (bits - 1);
    for (int i = 0; i < size; i++) {
      long x;
      long y;
      int tag = i >>> bits;
      long low = i & ((1L << bits) - 1);
      if (tag == Circuit.TAG_RANGE) {
        x = low;
        y = 0;
      } else {
        x = low - half;
        y = Math.max(x, 0);
      }
      long fy = Goldilocks.fromLong(y);
      long f0 = Goldilocks.add(Goldilocks.fromLong(x), Goldilocks.mul(beta.c0(), fy));
      long f1 = Goldilocks.mul(beta.c1(), fy);
      if (tag == 1) {
        f0 = Goldilocks.add(f0, beta2.c0());
        f1 = Goldilocks.add(f1, beta2.c1());
      }
      out[2 * i] = f0;
      out[2 * i + 1] = f1;
    }
    return out;
  }

  // ---------------------------------------------------------------- layers

  private List<Claim> claimsOn(int t) {
    List<Claim> list = pending.get(t);
    if (t == arch.outputTensor() && c.tensorPoly[t].source() == Source.PUBLIC && list.isEmpty()) {
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
        Ext z = open(c.quotient[t], tau);
        Ext rem = r.shift() > 0 ? open(c.remainder[t], tau) : Ext.ZERO;
        claimTensor(r.input(), tau, z.mul(1L << r.shift()).add(rem));
      }
      case Layer.Dense d -> proveDense(i, d, claimsOn(t));
      case Layer.Conv2d cv -> proveConv(i, cv, claimsOn(t));
      case Layer.SumPool s -> {
        Shape os = arch.shape(t);
        for (Claim cl : claimsOn(t)) {
          for (int dy = 0; dy < 2; dy++) {
            for (int dx = 0; dx < 2; dx++) {
              tensorValue(s.input(), new Window(os.logWidth(), os.logHeight(), dx, dy).apply(cl.point()));
            }
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

  /** E = sum_i a^i eq(r_i, .) and the batching challenge a (one claim needs none). */
  private long[] batchedEq(List<Claim> cls, int vars, Ext[] aOut) {
    Ext a = cls.size() > 1 ? ch.challenge("batch") : Ext.ONE;
    aOut[0] = a;
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
    int outVars = arch.shape(i + 1).vars();
    Ext[] a = new Ext[1];
    long[] e = batchedEq(cls, outVars, a);
    for (Claim cl : cls) {
      open(c.biasPoly[i], cl.point());
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
    // G[j] = sum_o E[o] W[o][j], split over input columns
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
    long[] x = Mle.lift(inputField(d.input()), 1 << inVars);
    Ext[] rho = SumCheck.proveProduct(ch, g, x, inVars);
    tensorValue(d.input(), rho);
    for (Claim cl : cls) {
      open(c.weightPoly[i], concat(rho, cl.point()));
    }
  }

  private long[] inputField(int t) {
    Poly p = c.tensorPoly[t];
    if (p == null) {
      return fieldTensor(t);
    }
    return Arrays.copyOfRange(vector(p.source()), p.offset(), p.offset() + (1 << p.vars()));
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
    Ext[] a = new Ext[1];
    long[] e = batchedEq(cls, out.vars(), a);
    for (Claim cl : cls) {
      open(c.biasPoly[i], geo.channelPart(cl.point()));
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
    long[] x = Mle.lift(inputField(cv.input()), 1 << inVars);
    Ext[] rho = SumCheck.proveProduct(ch, g, x, inVars);
    tensorValue(cv.input(), rho);
    ch.send(new Ext(g[0], g[1]));
    // H(co, ci, ky, kx) = eq(rho_c, ci) sum_{oy, ox} E(co, oy, ox) eq(rho_y, y) eq(rho_x, x)
    long[] h = geo.kernelWeights(e, rho);
    long[] kt = Mle.lift(
        Arrays.copyOfRange(pk.weights(), c.weightPoly[i].offset(), c.weightPoly[i].offset() + (1 << geo.kernelVars())),
        1 << geo.kernelVars());
    Ext[] rhoK = SumCheck.proveProduct(ch, kt, h, geo.kernelVars());
    open(c.weightPoly[i], rhoK);
  }

  private void proveMaxPool(int t, Layer.MaxPool m) {
    Shape os = arch.shape(t);
    int vars = os.vars();
    Ext[] tau = ch.challenges("maxpool", vars);
    long[] eq = Mle.eqTable(tau);
    long[] mv = Mle.lift(inputField(t), 1 << vars);
    long[] src = inputField(m.input());
    long[][] tables = new long[6][];
    tables[0] = eq;
    tables[1] = mv;
    int j = 2;
    Window[] windows = windows(os);
    for (Window w : windows) {
      long[] xj = new long[2 << vars];
      for (int x = 0; x < (1 << vars); x++) {
        xj[2 * x] = src[w.apply(x)];
      }
      tables[j++] = xj;
    }
    Ext[] rho = SumCheck.prove(ch, tables, vars, new MaxPoolKernel());
    open(c.tensorPoly[t], rho);
    for (Window w : windows) {
      open(c.tensorPoly[m.input()], w.apply(rho));
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

  /** eq(tau, x) prod_j (M(x) - X_j(x)): zero exactly when M is one of the window's values. */
  static final class MaxPoolKernel extends SumCheck.Kernel {
    MaxPoolKernel() {
      super(5);
    }

    @Override
    public void accumulate(long[] v, long[] acc, int at) {
      long p0 = v[0];
      long p1 = v[1];
      for (int j = 0; j < 4; j++) {
        long d0 = Goldilocks.sub(v[2], v[4 + 2 * j]);
        long d1 = Goldilocks.sub(v[3], v[5 + 2 * j]);
        long n0 = Ext.mulC0(p0, p1, d0, d1);
        p1 = Ext.mulC1(p0, p1, d0, d1);
        p0 = n0;
      }
      acc[at] = Goldilocks.add(acc[at], p0);
      acc[at + 1] = Goldilocks.add(acc[at + 1], p1);
    }
  }
}
