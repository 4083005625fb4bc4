package dev.verity.zk;

import dev.verity.core.VerificationException;
import dev.verity.zk.Circuit.Column;
import dev.verity.zk.Circuit.Expr;
import dev.verity.zk.Circuit.LookupGroup;
import dev.verity.zk.Circuit.Source;
import dev.verity.zk.Circuit.Term;
import dev.verity.zk.Circuit.Window;
import dev.verity.zk.field.Ext;
import dev.verity.zk.field.Goldilocks;
import dev.verity.zk.iop.FractionSum;
import dev.verity.zk.iop.Mle;
import dev.verity.zk.iop.SumCheck;
import dev.verity.zk.iop.VerifierChannel;
import dev.verity.zk.pcs.LinearClaim;
import dev.verity.zk.pcs.TensorCommitment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The verifier of {@link ZkInference}; mirrors {@link InferenceProver} message by message. */
final class InferenceVerifier {
  private final Statement statement;
  private final Circuit c;
  private final Architecture arch;
  private final VerifierChannel ch;
  private final long[] publicVec;
  private final List<List<LinearClaim>> claims = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
  private final List<List<InferenceProver.Claim>> pending = new ArrayList<>();

  private InferenceVerifier(Statement statement, Proof proof, Circuit circuit) throws VerificationException {
    this.statement = statement;
    this.arch = statement.key().architecture();
    this.c = circuit;
    this.publicVec = publicOutput();
    this.ch = new VerifierChannel(ZkInference.transcript(statement), proof.view(), Proof.HEADER);
    for (int t = 0; t < arch.tensorCount(); t++) {
      pending.add(new ArrayList<>());
    }
  }

  static void verify(Statement statement, Proof proof) throws VerificationException {
    new InferenceVerifier(statement, proof, new Circuit(statement.key().architecture())).run();
  }

  /**
   * Verifies and returns how many proof bytes precede the commitment openings: the messages whose
   * values depend on private data in the clear (see docs/ZK.md, "What is hidden").
   */
  static int revealedBytes(Statement statement, Proof proof) throws VerificationException {
    InferenceVerifier v = new InferenceVerifier(statement, proof, new Circuit(statement.key().architecture()));
    v.run();
    return v.openingsStart - Proof.HEADER - 32;
  }

  private int openingsStart;

  /** The output in the padded layout, after checking it is in the range the model can produce. */
  private long[] publicOutput() throws VerificationException {
    Shape s = arch.outputShape();
    long[] y = statement.output();
    if (y.length != s.size()) {
      throw new VerificationException("statement has " + y.length + " outputs; the model produces " + s.size());
    }
    long lo = -QuantizedModel.MAX_ACCUMULATOR;
    long hi = QuantizedModel.MAX_ACCUMULATOR;
    if (arch.producer(arch.outputTensor()) instanceof Layer.Requant) {
      lo = -Circuit.HALF;
      hi = Circuit.HALF - 1;
    }
    long[] v = new long[s.paddedSize()];
    for (int i = 0; i < y.length; i++) {
      if (y[i] < lo || y[i] > hi) {
        throw new VerificationException("output " + i + " = " + y[i] + " is outside the range the model can produce");
      }
      v[s.physicalIndexOfFlat(i)] = Goldilocks.fromLong(y[i]);
    }
    return v;
  }

  private void run() throws VerificationException {
    byte[] witnessRoot = ch.receiveBytes(32);
    verifyLookups();
    ch.label("input");
    Ext[] tau = ch.challenges("input", c.inputVars);
    if (!evalExpr(c.tensorExpr[0], tau).equals(evalExpr(c.inputLimbs, tau))) {
      throw new VerificationException("committed input does not match its range-checked limbs");
    }
    for (int i = arch.layers().size() - 1; i >= 0; i--) {
      verifyLayer(i);
    }
    openingsStart = ch.position();
    ch.label("openings");
    TensorCommitment.verify(ch, c.inputParams(), statement.input().toBytes(), claims.get(Source.INPUT.ordinal()));
    TensorCommitment.verify(ch, c.witnessParams(), witnessRoot, claims.get(Source.WITNESS.ordinal()));
    if (!claims.get(Source.WEIGHTS.ordinal()).isEmpty()) {
      TensorCommitment.verify(
          ch, c.weightsParams(), statement.key().weightsRoot(), claims.get(Source.WEIGHTS.ordinal()));
    }
    ch.finish();
  }

  // ---------------------------------------------------------------- claims

  private Ext open(Column col, Ext[] point) throws VerificationException {
    if (col.source() == Source.PUBLIC) {
      return Mle.evaluate(publicVec, point);
    }
    Ext v = ch.receive();
    claims.get(col.source().ordinal()).add(LinearClaim.eval(col.offset(), point, v));
    return v;
  }

  private Ext evalExpr(Expr e, Ext[] point) throws VerificationException {
    Ext v = Ext.ofLong(e.constant());
    for (Term term : e.terms()) {
      v = v.add(open(term.column(), point).mul(Goldilocks.fromLong(term.coefficient())));
    }
    return v;
  }

  private void claimTensor(int t, Ext[] point, Ext value) throws VerificationException {
    if (c.tensorExpr[t] == null) {
      pending.get(t).add(new InferenceProver.Claim(point, value));
    } else if (!evalExpr(c.tensorExpr[t], point).equals(value)) {
      throw new VerificationException("tensor " + t + " does not match the layer reading it");
    }
  }

  private Ext tensorValue(int t, Ext[] point) throws VerificationException {
    if (c.tensorExpr[t] != null) {
      return evalExpr(c.tensorExpr[t], point);
    }
    Ext v = ch.receive();
    pending.get(t).add(new InferenceProver.Claim(point, v));
    return v;
  }

  // ---------------------------------------------------------------- lookups

  private void verifyLookups() throws VerificationException {
    ch.label("lookups");
    Ext beta = ch.challenge("lookup-beta");
    Ext alpha = ch.challenge("lookup-alpha");
    Ext beta2 = beta.square();
    Ext beta3 = beta2.mul(beta);
    int n = c.lookupVars;
    FractionSum.LeafClaim leaf = FractionSum.verify(ch, n + 1);
    Ext[] point = leaf.point();
    Ext side = point[n];
    Ext[] rest = Arrays.copyOf(point, n);
    Ext m = open(c.multiplicities, Arrays.copyOf(rest, Circuit.TABLE_VARS));
    // the multiplicities occupy the first 2^TABLE_VARS rows of the table side
    for (int i = Circuit.TABLE_VARS; i < n; i++) {
      m = m.mul(Ext.ONE.sub(rest[i]));
    }
    Ext f = Ext.ZERO;
    for (LookupGroup g : c.lookups) {
      Ext[] local = Arrays.copyOf(rest, g.vars());
      Ext value = evalExpr(g.x(), local);
      if (g.y() != null) {
        value = value.add(beta.mul(evalExpr(g.y(), local)));
      }
      if (g.w() != null) {
        value = value.add(beta2.mul(evalExpr(g.w(), local)));
      }
      value = value.add(beta3.mul(g.tag()));
      Ext select = Mle.eqAt(Arrays.copyOfRange(rest, g.vars(), n), (long) g.offset() >>> g.vars());
      f = f.add(select.mul(value));
    }
    Ext table = Circuit.tableAt(Arrays.copyOf(rest, Circuit.TABLE_VARS), beta);
    Ext expectedP = Ext.ONE.sub(side).sub(side.mul(m));
    Ext expectedQ = Ext.ONE.sub(side).mul(alpha.sub(f)).add(side.mul(alpha.sub(table)));
    if (!expectedP.equals(leaf.p()) || !expectedQ.equals(leaf.q())) {
      throw new VerificationException("lookup argument does not match the committed values");
    }
  }

  // ---------------------------------------------------------------- layers

  private List<InferenceProver.Claim> claimsOn(int t) {
    List<InferenceProver.Claim> list = pending.get(t);
    if (t == arch.outputTensor() && list.isEmpty()) {
      Ext[] tau = ch.challenges("output", arch.shape(t).vars());
      list.add(new InferenceProver.Claim(tau, Mle.evaluate(publicVec, tau)));
    }
    return list;
  }

  private void verifyLayer(int i) throws VerificationException {
    Layer layer = arch.layers().get(i);
    int t = i + 1;
    ch.label("layer");
    switch (layer) {
      case Layer.Requant r -> {
        Ext[] tau = ch.challenges("requant", arch.shape(t).vars());
        Ext z = evalExpr(c.quotientExpr[t], tau);
        Ext rem = c.remainderExpr[t] != null ? evalExpr(c.remainderExpr[t], tau) : Ext.ZERO;
        if (r.relu() && t == arch.outputTensor()) {
          if (!evalExpr(c.reluExpr[t], tau).equals(Mle.evaluate(publicVec, tau))) {
            throw new VerificationException("proof does not match the claimed output");
          }
        }
        claimTensor(r.input(), tau, z.mul(1L << r.shift()).add(rem));
      }
      case Layer.Dense d -> verifyDense(i, d, claimsOn(t));
      case Layer.Conv2d cv -> verifyConv(i, cv, claimsOn(t));
      case Layer.SumPool s -> {
        for (InferenceProver.Claim cl : claimsOn(t)) {
          Ext sum = Ext.ZERO;
          for (Window w : InferenceProver.windows(arch.shape(t))) {
            sum = sum.add(tensorValue(s.input(), w.apply(cl.point())));
          }
          if (!sum.equals(cl.value())) {
            throw new VerificationException("sum pooling " + i + " does not add up");
          }
        }
      }
      case Layer.Add a -> {
        for (InferenceProver.Claim cl : claimsOn(t)) {
          Ext left = tensorValue(a.left(), cl.point());
          claimTensor(a.right(), cl.point(), cl.value().sub(left));
        }
      }
      case Layer.MaxPool m -> verifyMaxPool(t, m);
    }
  }

  private Ext batch(List<InferenceProver.Claim> cls) {
    return cls.size() > 1 ? ch.challenge("batch") : Ext.ONE;
  }

  private void verifyDense(int i, Layer.Dense d, List<InferenceProver.Claim> cls) throws VerificationException {
    Ext a = batch(cls);
    Ext target = Ext.ZERO;
    Ext s = Ext.ONE;
    for (InferenceProver.Claim cl : cls) {
      Ext b = open(c.biasColumn[i], cl.point());
      target = target.add(s.mul(cl.value().sub(b)));
      s = s.mul(a);
    }
    int inVars = arch.shape(d.input()).vars();
    SumCheck.Reduction red = SumCheck.verify(ch, target, inVars, 2);
    Ext x = tensorValue(d.input(), red.point());
    Ext wsum = Ext.ZERO;
    s = Ext.ONE;
    for (InferenceProver.Claim cl : cls) {
      wsum = wsum.add(s.mul(open(c.weightColumn[i], InferenceProver.concat(red.point(), cl.point()))));
      s = s.mul(a);
    }
    if (!x.mul(wsum).equals(red.value())) {
      throw new VerificationException("dense layer " + i + " does not match its input and weights");
    }
  }

  private void verifyConv(int i, Layer.Conv2d cv, List<InferenceProver.Claim> cls) throws VerificationException {
    Shape in = arch.shape(cv.input());
    ConvGeometry geo = new ConvGeometry(cv, in, arch.shape(i + 1));
    Ext a = batch(cls);
    Ext target = Ext.ZERO;
    Ext s = Ext.ONE;
    List<Ext[]> points = new ArrayList<>();
    for (InferenceProver.Claim cl : cls) {
      Ext b = open(c.biasColumn[i], geo.channelPart(cl.point()));
      target = target.add(s.mul(cl.value().sub(b.mul(geo.validFactor(cl.point())))));
      s = s.mul(a);
      points.add(cl.point());
    }
    SumCheck.Reduction red = SumCheck.verify(ch, target, in.vars(), 2);
    Ext x = tensorValue(cv.input(), red.point());
    Ext g = ch.receive();
    if (!x.mul(g).equals(red.value())) {
      throw new VerificationException("convolution " + i + " does not match its input");
    }
    SumCheck.Reduction redK = SumCheck.verify(ch, g, geo.kernelVars(), 2);
    Ext k = open(c.weightColumn[i], redK.point());
    Ext h = geo.kernelWeightsAt(points, a, red.point(), redK.point());
    if (!k.mul(h).equals(redK.value())) {
      throw new VerificationException("convolution " + i + " does not match its weights");
    }
  }

  private void verifyMaxPool(int t, Layer.MaxPool m) throws VerificationException {
    Shape os = arch.shape(t);
    Window[] windows = InferenceProver.windows(os);
    Ext[] tau = ch.challenges("maxpool", os.vars());
    Ext max = evalExpr(c.tensorExpr[t], tau);
    for (int j = 0; j < 4; j++) {
      Ext x = evalExpr(c.tensorExpr[m.input()], windows[j].apply(tau));
      Ext d = evalExpr(c.diffExpr[t][j], tau);
      if (!max.sub(x).equals(d)) {
        throw new VerificationException("max pooling " + (t - 1) + " differences do not match its input");
      }
    }
    Ext[] tau2 = ch.challenges("maxpool-product", os.vars());
    SumCheck.Reduction red = SumCheck.verify(ch, Ext.ZERO, os.vars(), 5);
    Ext prod = Mle.eq(tau2, red.point());
    for (int j = 0; j < 4; j++) {
      prod = prod.mul(evalExpr(c.diffExpr[t][j], red.point()));
    }
    if (!prod.equals(red.value())) {
      throw new VerificationException("max pooling " + (t - 1) + " output is not the maximum of its window");
    }
  }
}
