package dev.verity.zk;

import dev.verity.core.VerificationException;
import dev.verity.zk.Circuit.Check;
import dev.verity.zk.Circuit.Column;
import dev.verity.zk.Circuit.Source;
import dev.verity.zk.field.Ext;
import dev.verity.zk.field.Goldilocks;
import dev.verity.zk.iop.SumCheck;
import dev.verity.zk.iop.VerifierChannel;
import dev.verity.zk.iop.ZkSumCheck;
import dev.verity.zk.pcs.TensorCommitment;
import java.util.List;
import java.util.function.Supplier;

/** The verifier side of {@link Protocol}: reads the prover's messages and checks every step. */
final class InferenceVerifier extends Protocol {
  private final Statement statement;
  private final VerifierChannel ch;

  private InferenceVerifier(Statement statement, Proof proof, Circuit circuit) throws VerificationException {
    super(circuit);
    this.statement = statement;
    this.publicVec = publicOutput();
    this.ch = new VerifierChannel(ZkInference.transcript(statement), proof.view(), Proof.HEADER);
  }

  static void verify(Statement statement, Proof proof) throws VerificationException {
    new InferenceVerifier(statement, proof, new Circuit(statement.key().architecture())).run();
  }

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
    body();
    ch.label("openings");
    TensorCommitment.verify(ch, c.inputParams(), statement.input().toBytes(), claims.get(Source.INPUT));
    TensorCommitment.verify(ch, c.witnessParams(), witnessRoot, claims.get(Source.WITNESS));
    TensorCommitment.verify(ch, c.helperParams(), helperRootValue, claims.get(Source.HELPERS));
    if (!claims.get(Source.WEIGHTS).isEmpty()) {
      TensorCommitment.verify(ch, c.weightsParams(), statement.key().weightsRoot(), claims.get(Source.WEIGHTS));
    }
    ch.finish();
  }

  @Override
  boolean proving() {
    return false;
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
  Ext exchange(Supplier<Ext> proverValue) throws VerificationException {
    return ch.receive();
  }

  @Override
  byte[] helperRoot() throws VerificationException {
    return ch.receiveBytes(32);
  }

  @Override
  ZkSumCheck.Reduction zeroKnowledgeSumCheck(Check check, List<SymTerm> terms, Ext claim, Ext[] tau)
      throws VerificationException {
    return ZkSumCheck.verify(ch, claim, check.vars(), check.degree());
  }

  @Override
  SumCheck.Reduction kernelSumCheck(Sym.Linear l, Ext[] tau, Ext[] rhoIn, Ext claim) throws VerificationException {
    Layer.Conv2d cv = (Layer.Conv2d) arch.layers().get(l.layer());
    ConvGeometry geo = new ConvGeometry(cv, arch.shape(cv.input()), arch.shape(l.layer() + 1));
    return SumCheck.verify(ch, claim, geo.kernelVars(), 2);
  }

  @Override
  Ext columnValue(Column col, Ext[] point) {
    throw new UnsupportedOperationException("the verifier has no witness");
  }

  @Override
  ZkSumCheck.Factor maskedFactor(Sym.Masked m, int vars) {
    throw new UnsupportedOperationException("the verifier has no witness");
  }

  @Override
  long[] linearTable(Sym.Linear l, Ext[] tau) {
    throw new UnsupportedOperationException("the verifier has no weights");
  }

  @Override
  long[] lookupTable() {
    throw new UnsupportedOperationException("the verifier evaluates the table in closed form");
  }
}
