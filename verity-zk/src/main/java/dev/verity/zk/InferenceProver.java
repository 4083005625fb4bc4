package dev.verity.zk;

import dev.verity.zk.Circuit.Check;
import dev.verity.zk.Circuit.Column;
import dev.verity.zk.Circuit.Expr;
import dev.verity.zk.Circuit.LookupGroup;
import dev.verity.zk.Circuit.Source;
import dev.verity.zk.Circuit.Term;
import dev.verity.zk.Circuit.Window;
import dev.verity.zk.Circuit.WitnessColumn;
import dev.verity.zk.field.Ext;
import dev.verity.zk.field.Goldilocks;
import dev.verity.zk.iop.Masking;
import dev.verity.zk.iop.Mle;
import dev.verity.zk.iop.Parallel;
import dev.verity.zk.iop.ProverChannel;
import dev.verity.zk.iop.SumCheck;
import dev.verity.zk.iop.ZkSumCheck;
import dev.verity.zk.pcs.Prg;
import dev.verity.zk.pcs.TensorCommitment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** The prover side of {@link Protocol}; one instance per proof. */
final class InferenceProver extends Protocol {
  private final ProvingKey pk;
  private final Trace trace;
  private final Prg random = Prg.fresh("proof");
  private ProverChannel ch;
  private long[] inputVec;
  private long[] witnessVec;
  private long[] helperVec;
  private TensorCommitment.Committed helperCom;
  private final long[][] fieldValues;
  private final Map<Integer, long[]> linearTables = new HashMap<>();

  /**
   * Changes the witness and the claimed output before anything is committed: the hook of a
   * dishonest prover, used by soundness tests. Everything after it is computed from the changed
   * values, as a cheating prover would.
   */
  interface Tamper {
    void apply(Circuit circuit, long[] witness, long[] output);
  }

  private InferenceProver(ProvingKey pk, long[] input) {
    super(pk.circuit());
    this.pk = pk;
    this.trace = Trace.of(pk.model(), input);
    this.fieldValues = new long[arch.tensorCount()][];
  }

  static ProvedInference prove(ProvingKey pk, long[] input, Blinding blinding) {
    return new InferenceProver(pk, input).run(input, blinding, null);
  }

  static ProvedInference proveTampered(ProvingKey pk, long[] input, Blinding blinding, Tamper tamper) {
    return new InferenceProver(pk, input).run(input, blinding, tamper);
  }

  private ProvedInference run(long[] input, Blinding blinding, Tamper tamper) {
    Prg inputRandom = new Prg(blinding.reveal(), "input-commitment");
    inputVec = InputCommitment.vector(c, input, inputRandom);
    TensorCommitment.Committed inCom = TensorCommitment.commit(inputVec, c.inputVars, true, inputRandom);
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
    for (int i = 0; i < counts.length; i++) {
      witnessVec[c.multiplicities.offset() + i] = Goldilocks.fromLong(counts[i]);
    }
    // zero-knowledge masks of every witness column and every sum-check
    for (WitnessColumn wc : c.witnessColumns) {
      randomize(witnessVec, wc.column().maskOffset(), 2 * Masking.coefficients(wc.column().vars()));
    }
    for (Check check : c.checks) {
      randomize(witnessVec, check.maskPoly().offset(), 2 * ZkSumCheck.Mask.size(check.vars(), check.degree()));
    }
    for (int i = 0; i < arch.layers().size(); i++) {
      if (c.windowMasks[i] != null && arch.layers().get(i).inputs()[0] != 0) {
        for (int[] perWindow : c.windowMasks[i]) {
          for (int offset : perWindow) {
            randomize(witnessVec, offset, 2 * Masking.coefficients(arch.shape(i + 1).vars()));
          }
        }
      }
    }
    TensorCommitment.Committed witCom = TensorCommitment.commit(witnessVec, c.witnessVars, true, random);

    ch = new ProverChannel(ZkInference.transcript(statement));
    ch.sendBytes(witCom.root());
    try {
      body();
    } catch (dev.verity.core.VerificationException e) {
      throw new IllegalStateException("the prover does not verify", e);
    }
    ch.label("openings");
    TensorCommitment.open(ch, inCom, claims.get(Source.INPUT));
    TensorCommitment.open(ch, witCom, claims.get(Source.WITNESS));
    TensorCommitment.open(ch, helperCom, claims.get(Source.HELPERS));
    if (!claims.get(Source.WEIGHTS).isEmpty()) {
      TensorCommitment.open(ch, pk.weightsCommitment(), claims.get(Source.WEIGHTS));
    }
    return new ProvedInference(statement, Proof.ofBody(ch.toBytes()));
  }

  private void randomize(long[] v, int offset, int count) {
    for (int j = 0; j < count; j++) {
      v[offset + j] = random.nextElement();
    }
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
    Window w = Window.of(arch.shape(t))[j];
    return trace.values[t][x] - trace.values[m.input()][w.apply(x)];
  }

  private long[] vector(Source s) {
    return switch (s) {
      case INPUT -> inputVec;
      case WITNESS -> witnessVec;
      case HELPERS -> helperVec;
      case WEIGHTS -> pk.weights();
      case PUBLIC -> publicVec;
    };
  }

  /** A column's value at index x of its domain, as a field element. */
  private long at(Column col, int x) {
    return col.source() == Source.PUBLIC ? publicVec[x] : vector(col.source())[col.offset() + x];
  }

  private long exprAt(Expr e, int x) {
    if (e == null) {
      return 0;
    }
    long v = e.constant();
    for (Term term : e.terms()) {
      v += term.coefficient() * Goldilocks.toSigned(at(term.column(), x));
    }
    return v;
  }

  // ------------------------------------------------------------------ backend

  @Override
  boolean proving() {
    return true;
  }

  @Override
  Ext challenge(String label) {
    return ch.challenge(label);
  }

  @Override
  Ext[] challenges(String label, int n) {
    return ch.challenges(label, n);
  }

  @Override
  Ext exchange(Supplier<Ext> proverValue) {
    Ext v = proverValue.get();
    ch.send(v);
    return v;
  }

  @Override
  Ext columnValue(Column col, Ext[] point) {
    long[] vec = vector(col.source());
    Ext v = Mle.evaluate(vec, col.offset(), 1 << col.vars(), point);
    return col.masked() ? v.add(Masking.maskAt(vec, col.maskOffset(), point)) : v;
  }

  @Override
  Ext windowMaskValue(Column col, int windowMask, Ext[] p) {
    return Masking.maskAt(vector(col.source()), windowMask, p);
  }

  @Override
  ZkSumCheck.Factor maskedFactor(Sym.Masked m, int vars) {
    int size = 1 << vars;
    long[] table = new long[2 * size];
    for (int i = 0; i < m.exprs().size(); i++) {
      Expr e = m.exprs().get(i);
      Ext coeff = m.coefficients().get(i);
      long k0 = coeff.c0();
      long k1 = coeff.c1();
      Parallel.forRange(
          size,
          (chunk, from, to) -> {
            for (int x = from; x < to; x++) {
              int src = m.window() == null ? x : m.window().apply(x);
              long v = Goldilocks.fromLong(e.constant());
              for (Term t : e.terms()) {
                v = Goldilocks.add(v, Goldilocks.mul(at(t.column(), src), Goldilocks.fromLong(t.coefficient())));
              }
              table[2 * x] = Goldilocks.add(table[2 * x], Goldilocks.mul(v, k0));
              table[2 * x + 1] = Goldilocks.add(table[2 * x + 1], Goldilocks.mul(v, k1));
            }
          });
    }
    Ext constant = m.constant();
    if (!constant.isZero()) {
      for (int x = 0; x < size; x++) {
        table[2 * x] = Goldilocks.add(table[2 * x], constant.c0());
        table[2 * x + 1] = Goldilocks.add(table[2 * x + 1], constant.c1());
      }
    }
    boolean anyMask = false;
    for (Expr e : m.exprs()) {
      for (Term t : e.terms()) {
        anyMask |= t.column().masked();
      }
    }
    ZkSumCheck.MaskFunction mask =
        !anyMask
            ? null
            : p -> {
              Ext[] at = m.window() == null ? p : m.window().apply(p);
              Ext v = Ext.ZERO;
              for (int i = 0; i < m.exprs().size(); i++) {
                Ext ev = Ext.ZERO;
                List<Term> ts = m.exprs().get(i).terms();
                for (int k = 0; k < ts.size(); k++) {
                  Term t = ts.get(k);
                  if (t.column().masked()) {
                    Ext mk = Masking.maskAt(vector(t.column().source()), t.column().maskOffset(), at);
                    if (m.window() != null) {
                      mk = mk.add(Masking.maskAt(vector(t.column().source()), m.windowMasks()[k], p));
                    }
                    ev = ev.add(mk.mul(Goldilocks.fromLong(t.coefficient())));
                  }
                }
                v = v.add(ev.mul(m.coefficients().get(i)));
              }
              return v;
            };
    return new ZkSumCheck.Factor(table, mask);
  }

  @Override
  long[] linearTable(Sym.Linear l, Ext[] tau) {
    int i = l.layer();
    Layer layer = arch.layers().get(i);
    Shape out = arch.shape(i + 1);
    long[] e = Mle.eqTable(Arrays.copyOf(tau, out.vars()));
    long[] g =
        switch (layer) {
          case Layer.Dense d -> denseTable(i, d, e);
          case Layer.Conv2d cv -> convTable(i, cv, e);
          default -> throw new IllegalStateException("layer " + i + " has no weights");
        };
    linearTables.put(i, g);
    return g.clone();
  }

  /** G[j] = sum_o E[o] W[o][j] over the input's padded domain. */
  private long[] denseTable(int i, Layer.Dense d, long[] e) {
    Shape in = arch.shape(d.input());
    int n = in.size();
    int[] w = pk.model().weightsView(i);
    long[] g = new long[2 << in.vars()];
    int outputs = d.outputs();
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
            int p = in.physicalIndexOfFlat(j);
            g[2 * p] = s0;
            g[2 * p + 1] = s1;
          }
        });
    return g;
  }

  /** G(ci, y, x) = sum over outputs and kernel offsets of E(co, oy, ox) K(co, ci, ky, kx). */
  private long[] convTable(int i, Layer.Conv2d cv, long[] e) {
    Shape in = arch.shape(cv.input());
    Shape out = arch.shape(i + 1);
    int[] w = pk.model().weightsView(i);
    int k = cv.kernel();
    int ci = in.channels();
    long[] g = new long[2 << in.vars()];
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
    return g;
  }

  @Override
  Ext linearValue(Sym.Linear l, Ext[] tau, Ext[] rhoIn) {
    return Mle.evaluateExt(linearTables.get(l.layer()), rhoIn);
  }

  @Override
  SumCheck.Reduction kernelSumCheck(Sym.Linear l, Ext[] tau, Ext[] rhoIn, Ext claim) {
    int i = l.layer();
    Layer.Conv2d cv = (Layer.Conv2d) arch.layers().get(i);
    ConvGeometry geo = new ConvGeometry(cv, arch.shape(cv.input()), arch.shape(i + 1));
    long[] h = geo.kernelWeights(Mle.eqTable(tau), rhoIn);
    int kOff = c.weightColumn[i].offset();
    int size = 1 << geo.kernelVars();
    long[] kt = Mle.lift(Arrays.copyOfRange(pk.weights(), kOff, kOff + size), size);
    Ext[] point = SumCheck.proveProduct(ch, kt, h, geo.kernelVars());
    return new SumCheck.Reduction(point, null);
  }

  @Override
  long[] lookupTable() {
    int size = 1 << Circuit.TABLE_VARS;
    long[] table = new long[2 * size];
    Ext[] powers = {beta, beta.square(), beta.square().mul(beta)};
    for (int i = 0; i < size; i++) {
      long[] row = Circuit.tableRow(i);
      encode(row[0], row[1], row[2], row[3], powers, table, i);
    }
    return table;
  }

  @Override
  ZkSumCheck.Reduction zeroKnowledgeSumCheck(Check check, List<SymTerm> terms, Ext claim, Ext[] tau) {
    List<ZkSumCheck.Term> zk = new ArrayList<>();
    long[] lookupTable = null;
    for (SymTerm t : terms) {
      List<ZkSumCheck.Factor> fs = new ArrayList<>();
      for (Sym s : t.factors()) {
        fs.add(
            switch (s) {
              case Sym.Eq e -> new ZkSumCheck.Factor(Mle.eqTable(Arrays.copyOf(tau, e.vars())), null);
              case Sym.Masked m -> maskedFactor(m, t.vars());
              case Sym.Linear l -> new ZkSumCheck.Factor(linearTable(l, tau), null);
              case Sym.Table tb -> {
                if (lookupTable == null) {
                  lookupTable = lookupTable();
                }
                yield new ZkSumCheck.Factor(lookupTable.clone(), null);
              }
            });
      }
      zk.add(new ZkSumCheck.Term(t.coefficient(), t.vars(), fs));
    }
    Ext[] point = ZkSumCheck.prove(ch, check.vars(), check.degree(), zk, maskPolynomial(check));
    return new ZkSumCheck.Reduction(point, null, null);
  }

  private ZkSumCheck.Mask maskPolynomial(Check check) {
    int size = ZkSumCheck.Mask.size(check.vars(), check.degree());
    Ext[] a = new Ext[size];
    int off = check.maskPoly().offset();
    for (int j = 0; j < size; j++) {
      a[j] = new Ext(witnessVec[off + 2 * j], witnessVec[off + 2 * j + 1]);
    }
    return new ZkSumCheck.Mask(a, check.vars(), check.degree());
  }

  @Override
  Ext maskPolynomialValue(Check check, Ext[] rho) {
    return maskPolynomial(check).at(rho);
  }

  // ------------------------------------------------------------------ lookups

  private long[] multiplicities(boolean lenient) {
    long[] m = new long[1 << Circuit.TABLE_VARS];
    for (LookupGroup g : c.lookups) {
      for (int x = 0; x < (1 << g.vars()); x++) {
        int index = Circuit.tableIndex(g.tag(), exprAt(g.x(), x), exprAt(g.y(), x), exprAt(g.w(), x));
        if (index >= 0) {
          m[index]++;
        } else if (!lenient) {
          throw new IllegalStateException("inference trace violates a lookup of tag " + g.tag());
        }
      }
    }
    return m;
  }

  /** The encoding x + beta y + beta^2 w + beta^3 tag of integer entries. */
  private static void encode(long x, long y, long w, long tag, Ext[] powers, long[] out, int at) {
    long c0 = Goldilocks.fromLong(x);
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

  @Override
  byte[] helperRoot() {
    helperVec = new long[c.helperLength];
    Ext[] powers = {beta, beta.square(), beta.square().mul(beta)};
    for (LookupGroup g : c.lookups) {
      int size = 1 << g.vars();
      long[] denom = new long[2 * size];
      for (int x = 0; x < size; x++) {
        encode(exprAt(g.x(), x), exprAt(g.y(), x), exprAt(g.w(), x), g.tag(), powers, denom, x);
        denom[2 * x] = Goldilocks.sub(alpha.c0(), denom[2 * x]);
        denom[2 * x + 1] = Goldilocks.sub(alpha.c1(), denom[2 * x + 1]);
      }
      long[] inv = batchInverse(denom);
      writeExtColumn(g.helperRe(), g.helperIm(), inv);
    }
    long[] table = lookupTable();
    int size = 1 << Circuit.TABLE_VARS;
    long[] denom = new long[2 * size];
    for (int t = 0; t < size; t++) {
      denom[2 * t] = Goldilocks.sub(alpha.c0(), table[2 * t]);
      denom[2 * t + 1] = Goldilocks.sub(alpha.c1(), table[2 * t + 1]);
    }
    long[] inv = batchInverse(denom);
    int mOff = c.multiplicities.offset();
    for (int t = 0; t < size; t++) {
      long m = witnessVec[mOff + t];
      inv[2 * t] = Goldilocks.mul(inv[2 * t], m);
      inv[2 * t + 1] = Goldilocks.mul(inv[2 * t + 1], m);
    }
    writeExtColumn(c.tableHelperRe, c.tableHelperIm, inv);
    helperCom = TensorCommitment.commit(helperVec, c.helperVars, true, random);
    byte[] root = helperCom.root();
    ch.sendBytes(root);
    return root;
  }

  private void writeExtColumn(Column re, Column im, long[] values) {
    for (int x = 0; x < values.length / 2; x++) {
      helperVec[re.offset() + x] = values[2 * x];
      helperVec[im.offset() + x] = values[2 * x + 1];
    }
    randomize(helperVec, re.maskOffset(), 2 * Masking.coefficients(re.vars()));
    randomize(helperVec, im.maskOffset(), 2 * Masking.coefficients(im.vars()));
  }

  /** Inverses of interleaved extension elements with one inversion (zero stays zero). */
  static long[] batchInverse(long[] v) {
    int n = v.length / 2;
    Ext[] prefix = new Ext[n + 1];
    prefix[0] = Ext.ONE;
    for (int i = 0; i < n; i++) {
      Ext x = new Ext(v[2 * i], v[2 * i + 1]);
      prefix[i + 1] = x.isZero() ? prefix[i] : prefix[i].mul(x);
    }
    Ext inv = prefix[n].inverse();
    long[] out = new long[2 * n];
    for (int i = n - 1; i >= 0; i--) {
      Ext x = new Ext(v[2 * i], v[2 * i + 1]);
      if (x.isZero()) {
        continue;
      }
      Ext xi = inv.mul(prefix[i]);
      out[2 * i] = xi.c0();
      out[2 * i + 1] = xi.c1();
      inv = inv.mul(x);
    }
    return out;
  }

  static Ext[] concat(Ext[] low, Ext[] high) {
    Ext[] out = Arrays.copyOf(low, low.length + high.length);
    System.arraycopy(high, 0, out, low.length, high.length);
    return out;
  }
}
