package dev.verity.zk;

import dev.verity.core.VerificationException;
import dev.verity.zk.Circuit.Check;
import dev.verity.zk.Circuit.Column;
import dev.verity.zk.Circuit.Expr;
import dev.verity.zk.Circuit.LookupGroup;
import dev.verity.zk.Circuit.Source;
import dev.verity.zk.Circuit.Term;
import dev.verity.zk.Circuit.Window;
import dev.verity.zk.field.Ext;
import dev.verity.zk.field.Goldilocks;
import dev.verity.zk.iop.Masking;
import dev.verity.zk.iop.Mle;
import dev.verity.zk.iop.ZkSumCheck;
import dev.verity.zk.pcs.LinearClaim;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The proof of inference, written once for both sides: the prover ({@link InferenceProver}) and
 * the verifier ({@link InferenceVerifier}) run the same sequence of steps and differ only in how a
 * message is produced (computed and sent, or read) and in the checks the verifier makes. This keeps
 * the two sides in lockstep by construction. See docs/ZK.md for the protocol.
 *
 * <p>After the witness commitment come: the lookup argument (helpers committed after the lookup
 * challenges, then one zero-knowledge sum-check), the input's limb check, one zero-knowledge
 * sum-check per rescaling, max pooling and (if virtual) output, from the last layer to the first,
 * and finally the openings of the four commitments.
 */
abstract class Protocol {
  static final Ext U = new Ext(0, 1);

  final Circuit c;
  final Architecture arch;
  long[] publicVec;
  final Map<Source, List<LinearClaim>> claims = new EnumMap<>(Source.class);
  Ext beta;
  Ext alpha;

  Protocol(Circuit c) {
    this.c = c;
    this.arch = c.arch;
    for (Source s : Source.values()) {
      claims.put(s, new ArrayList<>());
    }
  }

  // ------------------------------------------------------------------ backend

  abstract boolean proving();

  abstract Ext challenge(String label);

  abstract Ext[] challenges(String label, int n);

  /** The prover computes and sends a value; the verifier reads it. */
  abstract Ext exchange(Supplier<Ext> proverValue) throws VerificationException;

  /** The prover's masked value of a private column at a point. */
  abstract Ext columnValue(Column col, Ext[] point);

  /** The prover's table of a masked factor, and its mask function. */
  abstract ZkSumCheck.Factor maskedFactor(Sym.Masked m, int vars);

  /** The prover's table of a layer-defined factor (the folded weights G of a dense or conv layer). */
  abstract long[] linearTable(Sym.Linear l, Ext[] tau);

  /** The prover's lookup-table factor. */
  abstract long[] lookupTable();

  /** Runs a zero-knowledge sum-check; the verifier's result holds the final value, the prover's not. */
  abstract ZkSumCheck.Reduction zeroKnowledgeSumCheck(Check check, List<SymTerm> terms, Ext claim, Ext[] tau)
      throws VerificationException;

  /** A plain sum-check of a product of two public tables (the convolution's kernel step). */
  abstract dev.verity.zk.iop.SumCheck.Reduction kernelSumCheck(Sym.Linear l, Ext[] tau, Ext[] rhoIn, Ext claim)
      throws VerificationException;

  /** Verifier only: fails when a final check does not hold. */
  void require(boolean ok, String what) throws VerificationException {
    if (!ok && !proving()) {
      throw new VerificationException(what);
    }
  }

  // ------------------------------------------------------------------ symbolic summands

  /** A factor of a sum-check's summand. */
  sealed interface Sym {
    /** eq(tau_0..tau_{vars-1}, x). */
    record Eq(int vars) implements Sym {}

    /**
     * sum_i coefficient_i expression_i(window(x)) + constant: a masked polynomial. A window read
     * (one expression) adds, per column of the expression, a fresh mask over the pooled domain at
     * {@code windowMasks[k]} in that column's vector.
     */
    record Masked(List<Ext> coefficients, List<Expr> exprs, Ext constant, Window window, int[] windowMasks)
        implements Sym {
      static Masked of(Expr e) {
        return new Masked(List.of(Ext.ONE), List.of(e), Ext.ZERO, null, null);
      }

      static Masked of(Expr e, Window w, int[] windowMasks) {
        return new Masked(List.of(Ext.ONE), List.of(e), Ext.ZERO, w, windowMasks);
      }
    }

    /** The folded weights of dense or convolution layer {@code layer}, over its input's domain. */
    record Linear(int layer) implements Sym {}

    /** The lookup table's row encodings. */
    record Table() implements Sym {}
  }

  /** coefficient * product of factors over the first {@code vars} variables. */
  record SymTerm(Ext coefficient, int vars, List<Sym> factors) {}

  private record OpenKey(Column column, Window window, int length) {}

  /** Values of the factors at the end of one sum-check, each opened once. */
  private final class Openings {
    final Map<OpenKey, Ext> cache = new LinkedHashMap<>();
    final Ext[] tau;
    final Ext[] rho;
    final Map<Integer, Ext> linear = new LinkedHashMap<>();

    Openings(Ext[] tau, Ext[] rho) {
      this.tau = tau;
      this.rho = rho;
    }

    Ext value(Sym s, int vars) throws VerificationException {
      Ext[] p = java.util.Arrays.copyOf(rho, vars);
      return switch (s) {
        case Sym.Eq e -> Mle.eq(java.util.Arrays.copyOf(tau, e.vars()), p);
        case Sym.Masked m -> {
          Ext v = m.constant();
          for (int i = 0; i < m.exprs().size(); i++) {
            Expr e = m.exprs().get(i);
            Ext ev = Ext.ofLong(e.constant());
            for (int k = 0; k < e.terms().size(); k++) {
              Term t = e.terms().get(k);
              OpenKey key = new OpenKey(t.column(), m.window(), vars);
              Ext cv = cache.get(key);
              if (cv == null) {
                cv = m.window() == null ? open(t.column(), p) : openWindow(t.column(), m.window(), m.windowMasks()[k], p);
                cache.put(key, cv);
              }
              ev = ev.add(cv.mul(Goldilocks.fromLong(t.coefficient())));
            }
            v = v.add(m.coefficients().get(i).mul(ev));
          }
          yield v;
        }
        case Sym.Linear l -> linear.get(l.layer());
        case Sym.Table t -> Circuit.tableAt(p, beta);
      };
    }
  }

  /** Opens every masked factor, resolves layer factors, and checks the sum-check's final value. */
  private void finish(Check check, List<SymTerm> terms, Ext[] tau, ZkSumCheck.Reduction red) throws VerificationException {
    Openings o = new Openings(tau, red.point());
    for (SymTerm t : terms) {
      for (Sym s : t.factors()) {
        if (s instanceof Sym.Masked) {
          o.value(s, t.vars());
        }
      }
    }
    for (SymTerm t : terms) {
      for (Sym s : t.factors()) {
        if (s instanceof Sym.Linear l && !o.linear.containsKey(l.layer())) {
          o.linear.put(l.layer(), resolveLinear(l, tau, java.util.Arrays.copyOf(red.point(), t.vars())));
        }
      }
    }
    Ext g = maskPolynomialAt(check, red.point());
    if (proving()) {
      return;
    }
    Ext f = Ext.ZERO;
    for (SymTerm t : terms) {
      Ext[] fv = new Ext[t.factors().size()];
      for (int i = 0; i < fv.length; i++) {
        fv[i] = o.value(t.factors().get(i), t.vars());
      }
      f = f.add(ZkSumCheck.termValue(t.coefficient(), check.vars(), t.vars(), fv));
    }
    require(f.add(red.mu().mul(g)).equals(red.value()), failure(check));
  }

  private String failure(Check check) {
    return switch (check.kind()) {
      case LOOKUPS -> "lookup argument fails: some activation, limb or remainder is out of range";
      case INPUT_LIMBS -> "committed input is not an int16 vector";
      case REQUANT -> "layer " + (check.tensor() - 1) + " (rescaling) does not match the layer it reads";
      case MAX_POOL -> "max pooling " + (check.tensor() - 1) + " output is not the maximum of its window";
      case OUTPUT -> "proof does not match the claimed output";
    };
  }

  /** g(rho) of the check's masking polynomial, opened from the witness. */
  private Ext maskPolynomialAt(Check check, Ext[] rho) throws VerificationException {
    Column col = check.maskPoly();
    Ext[] w = ZkSumCheck.Mask.weights(rho, check.degree());
    Ext v = exchange(() -> maskPolynomialValue(check, rho));
    claims.get(Source.WITNESS).add(new LinearClaim(List.of(new LinearClaim.Dot(col.offset(), col.vars(), interleaveWithU(w))), v));
    return v;
  }

  /** Prover only: g(rho). */
  Ext maskPolynomialValue(Check check, Ext[] rho) {
    throw new UnsupportedOperationException();
  }

  /** Coefficients for a claim on interleaved extension values: entry 2j gets w_j, 2j+1 gets u w_j. */
  static long[] interleaveWithU(Ext[] w) {
    long[] out = new long[4 * w.length];
    for (int j = 0; j < w.length; j++) {
      Ext uw = w[j].mul(U);
      out[4 * j] = w[j].c0();
      out[4 * j + 1] = w[j].c1();
      out[4 * j + 2] = uw.c0();
      out[4 * j + 3] = uw.c1();
    }
    return out;
  }

  // ------------------------------------------------------------------ openings

  /** A column's (masked) value at a point: computed when public, exchanged and claimed otherwise. */
  Ext open(Column col, Ext[] point) throws VerificationException {
    if (col.source() == Source.PUBLIC) {
      return Mle.evaluate(publicVec, point);
    }
    Ext v = exchange(() -> columnValue(col, point));
    if (col.masked()) {
      long[] phi = interleaveWithU(Masking.phi(point));
      claims.get(col.source()).add(new LinearClaim(
          List.of(new LinearClaim.Eval(col.offset(), point, Ext.ONE), new LinearClaim.Dot(col.maskOffset(), col.maskLogLength(), phi)),
          v));
    } else {
      claims.get(col.source()).add(LinearClaim.eval(col.offset(), point, v));
    }
    return v;
  }

  /**
   * A column's value at the window point w(p), plus the fresh window mask at p: exchanged and
   * claimed (public columns are never pooled).
   */
  Ext openWindow(Column col, Window w, int windowMask, Ext[] p) throws VerificationException {
    Ext[] at = w.apply(p);
    Ext v = exchange(() -> columnValue(col, at).add(windowMaskValue(col, windowMask, p)));
    int maskLog = Shape.log2Ceil(2 * Masking.coefficients(p.length));
    claims.get(col.source()).add(new LinearClaim(
        List.of(
            new LinearClaim.Eval(col.offset(), at, Ext.ONE),
            new LinearClaim.Dot(col.maskOffset(), col.maskLogLength(), interleaveWithU(Masking.phi(at))),
            new LinearClaim.Dot(windowMask, maskLog, interleaveWithU(Masking.phi(p)))),
        v));
    return v;
  }

  /** Prover only: a window mask's value. */
  Ext windowMaskValue(Column col, int windowMask, Ext[] p) {
    throw new UnsupportedOperationException();
  }

  // ------------------------------------------------------------------ the protocol

  /** Everything between the witness commitment and the openings. */
  void body() throws VerificationException {
    lookups();
    for (int i = 1; i < c.checks.size(); i++) {
      Check check = c.checks.get(i);
      switch (check.kind()) {
        case INPUT_LIMBS -> inputLimbs(check);
        case REQUANT -> requant(check);
        case MAX_POOL -> maxPool(check);
        case OUTPUT -> output(check);
        case LOOKUPS -> throw new IllegalStateException("one lookup argument per proof");
      }
    }
  }

  /** Commits the lookup helpers (prover) or reads their root (verifier), after beta and alpha. */
  abstract byte[] helperRoot() throws VerificationException;

  byte[] helperRootValue;

  private void lookups() throws VerificationException {
    Check check = c.checks.get(0);
    beta = challenge("lookup-beta");
    alpha = challenge("lookup-alpha");
    helperRootValue = helperRoot();
    Ext[] tau = challenges("lookup-tau", check.vars());
    List<SymTerm> terms = new ArrayList<>();
    Ext claim = Ext.ZERO;
    Ext beta2 = beta.square();
    for (LookupGroup g : c.lookups) {
      Ext lambda = challenge("lookup-lambda");
      claim = claim.add(lambda);
      Sym h = new Sym.Masked(List.of(Ext.ONE, U), List.of(Expr.of(g.helperRe()), Expr.of(g.helperIm())), Ext.ZERO, null, null);
      List<Ext> coeffs = new ArrayList<>(List.of(Ext.ONE));
      List<Expr> exprs = new ArrayList<>(List.of(g.x()));
      if (g.y() != null) {
        coeffs.add(beta);
        exprs.add(g.y());
      }
      if (g.w() != null) {
        coeffs.add(beta2);
        exprs.add(g.w());
      }
      Sym f = new Sym.Masked(coeffs, exprs, beta2.mul(beta).mul(g.tag()), null, null);
      Sym eq = new Sym.Eq(g.vars());
      terms.add(new SymTerm(lambda.mul(alpha), g.vars(), List.of(eq, h)));
      terms.add(new SymTerm(lambda.neg(), g.vars(), List.of(eq, h, f)));
      terms.add(new SymTerm(Ext.ONE, g.vars(), List.of(h)));
    }
    Ext lambdaT = challenge("lookup-lambda");
    Sym q = new Sym.Masked(List.of(Ext.ONE, U), List.of(Expr.of(c.tableHelperRe), Expr.of(c.tableHelperIm)), Ext.ZERO, null, null);
    Sym m = Sym.Masked.of(Expr.of(c.multiplicities));
    Sym eqT = new Sym.Eq(Circuit.TABLE_VARS);
    int tv = Circuit.TABLE_VARS;
    terms.add(new SymTerm(lambdaT.mul(alpha), tv, List.of(eqT, q)));
    terms.add(new SymTerm(lambdaT.neg(), tv, List.of(eqT, q, new Sym.Table())));
    terms.add(new SymTerm(lambdaT.neg(), tv, List.of(eqT, m)));
    terms.add(new SymTerm(Ext.ONE.neg(), tv, List.of(q)));
    run(check, terms, claim, tau);
  }

  private void run(Check check, List<SymTerm> terms, Ext claim, Ext[] tau) throws VerificationException {
    ZkSumCheck.Reduction red = zeroKnowledgeSumCheck(check, terms, claim, tau);
    finish(check, terms, tau, red);
  }

  private void inputLimbs(Check check) throws VerificationException {
    Ext[] tau = challenges("check-tau", check.vars());
    int v = check.vars();
    Sym eq = new Sym.Eq(v);
    List<SymTerm> terms = List.of(
        new SymTerm(Ext.ONE, v, List.of(eq, Sym.Masked.of(c.tensorExpr[0]))),
        new SymTerm(Ext.ONE.neg(), v, List.of(eq, Sym.Masked.of(c.inputLimbs))));
    run(check, terms, Ext.ZERO, tau);
  }

  private void requant(Check check) throws VerificationException {
    int t = check.tensor();
    Layer.Requant r = (Layer.Requant) arch.producer(t);
    int vars = arch.shape(t).vars();
    Ext[] tau = challenges("check-tau", check.vars());
    Sym eq = new Sym.Eq(vars);
    List<SymTerm> terms = new ArrayList<>();
    terms.add(new SymTerm(Ext.of(1L << r.shift()), vars, List.of(eq, Sym.Masked.of(c.quotientExpr[t]))));
    if (c.remainderExpr[t] != null) {
      terms.add(new SymTerm(Ext.ONE, vars, List.of(eq, Sym.Masked.of(c.remainderExpr[t]))));
    }
    if (r.relu() && t == arch.outputTensor()) {
      Ext lambda = challenge("relu-output");
      terms.add(new SymTerm(lambda, vars, List.of(eq, Sym.Masked.of(c.reluExpr[t]))));
      terms.add(new SymTerm(lambda.neg(), vars, List.of(eq, Sym.Masked.of(c.tensorExpr[t]))));
    }
    Ext claim = linearInput(r.input(), tau, Ext.ONE.neg(), terms);
    run(check, terms, claim, tau);
  }

  private void output(Check check) throws VerificationException {
    int t = check.tensor();
    Ext[] tau = challenges("check-tau", check.vars());
    Ext y = Mle.evaluate(publicVec, java.util.Arrays.copyOf(tau, arch.shape(t).vars()));
    List<SymTerm> terms = new ArrayList<>();
    Ext claim = linearInput(t, tau, Ext.ONE, terms);
    // sum of the producer's terms = y - bias, and linearInput returned -bias
    run(check, terms, y.add(claim), tau);
  }

  /**
   * Adds sign * (tensor u at tau) to the summand, expanding u by its producer when it is virtual,
   * and returns the constant part of that value (the bias term), which goes to the claim with the
   * opposite sign.
   */
  private Ext linearInput(int u, Ext[] tau, Ext sign, List<SymTerm> terms) throws VerificationException {
    int uVars = arch.shape(u).vars();
    Ext[] tu = java.util.Arrays.copyOf(tau, uVars);
    if (c.tensorExpr[u] != null && c.tensorExpr[u].terms().get(0).column().source() != Source.PUBLIC) {
      terms.add(new SymTerm(sign, uVars, List.of(new Sym.Eq(uVars), Sym.Masked.of(c.tensorExpr[u]))));
      return Ext.ZERO;
    }
    Layer p = arch.producer(u);
    return switch (p) {
      case Layer.Dense d -> {
        int i = u - 1;
        Ext bias = open(c.biasColumn[i], tu);
        int xv = arch.shape(d.input()).vars();
        terms.add(new SymTerm(sign, xv, List.of(new Sym.Linear(i), Sym.Masked.of(c.tensorExpr[d.input()]))));
        yield bias.mul(sign).neg();
      }
      case Layer.Conv2d cv -> {
        int i = u - 1;
        ConvGeometry geo = new ConvGeometry(cv, arch.shape(cv.input()), arch.shape(u));
        Ext bias = open(c.biasColumn[i], geo.channelPart(tu)).mul(geo.validFactor(tu));
        int xv = arch.shape(cv.input()).vars();
        terms.add(new SymTerm(sign, xv, List.of(new Sym.Linear(i), Sym.Masked.of(c.tensorExpr[cv.input()]))));
        yield bias.mul(sign).neg();
      }
      case Layer.Add a -> {
        terms.add(new SymTerm(sign, uVars, List.of(new Sym.Eq(uVars), Sym.Masked.of(c.tensorExpr[a.left()]))));
        terms.add(new SymTerm(sign, uVars, List.of(new Sym.Eq(uVars), Sym.Masked.of(c.tensorExpr[a.right()]))));
        yield Ext.ZERO;
      }
      case Layer.SumPool s -> {
        Window[] ws = Window.of(arch.shape(u));
        for (int j = 0; j < 4; j++) {
          terms.add(new SymTerm(sign, uVars, List.of(new Sym.Eq(uVars),
              Sym.Masked.of(c.tensorExpr[s.input()], ws[j], c.windowMasks[u - 1][j]))));
        }
        yield Ext.ZERO;
      }
      default -> throw new IllegalStateException("layer " + (u - 1) + " output is not virtual");
    };
  }

  /** The value at rho of a layer's folded weights, established from the weight commitment. */
  private Ext resolveLinear(Sym.Linear l, Ext[] tau, Ext[] rhoIn) throws VerificationException {
    int i = l.layer();
    Layer layer = arch.layers().get(i);
    int uVars = arch.shape(i + 1).vars();
    Ext[] tu = java.util.Arrays.copyOf(tau, uVars);
    if (layer instanceof Layer.Dense) {
      return open(c.weightColumn[i], InferenceProver.concat(rhoIn, tu));
    }
    Layer.Conv2d cv = (Layer.Conv2d) layer;
    ConvGeometry geo = new ConvGeometry(cv, arch.shape(cv.input()), arch.shape(i + 1));
    Ext g = exchange(() -> linearValue(l, tu, rhoIn));
    dev.verity.zk.iop.SumCheck.Reduction red = kernelSumCheck(l, tu, rhoIn, g);
    Ext k = open(c.weightColumn[i], red.point());
    if (!proving()) {
      Ext h = geo.kernelWeightsAt(List.<Ext[]>of(tu), Ext.ONE, rhoIn, red.point());
      require(k.mul(h).equals(red.value()), "convolution " + i + " does not match its weights");
    }
    return g;
  }

  /** Prover only: G~(rho) of a convolution. */
  Ext linearValue(Sym.Linear l, Ext[] tau, Ext[] rhoIn) {
    throw new UnsupportedOperationException();
  }

  private void maxPool(Check check) throws VerificationException {
    int t = check.tensor();
    Layer.MaxPool m = (Layer.MaxPool) arch.producer(t);
    int vars = arch.shape(t).vars();
    Ext[] tau = challenges("check-tau", vars);
    Ext lambda = challenge("maxpool-lambda");
    Sym eq = new Sym.Eq(vars);
    List<SymTerm> terms = new ArrayList<>();
    Window[] windows = Window.of(arch.shape(t));
    Ext l = Ext.ONE;
    Ext sum = Ext.ZERO;
    List<Sym> product = new ArrayList<>(List.of(eq));
    for (int j = 0; j < 4; j++) {
      sum = sum.add(l);
      terms.add(new SymTerm(l.neg(), vars, List.of(eq, Sym.Masked.of(c.tensorExpr[m.input()], windows[j], c.windowMasks[t - 1][j]))));
      terms.add(new SymTerm(l.neg(), vars, List.of(eq, Sym.Masked.of(c.diffExpr[t][j]))));
      product.add(Sym.Masked.of(c.diffExpr[t][j]));
      l = l.mul(lambda);
    }
    terms.add(new SymTerm(sum, vars, List.of(eq, Sym.Masked.of(c.tensorExpr[t]))));
    terms.add(new SymTerm(l, vars, product));
    run(check, terms, Ext.ZERO, tau);
  }
}
