package dev.verity.exec;

import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.onnx.OnnxModel;
import dev.verity.protocol.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** Any single changed bit in an opening, in its tensors or its committed hashes, is rejected. */
class OpeningPropertiesTest {
  private static final OnnxModel MODEL = Fixtures.convNet(21);
  private static final Trace TRACE;

  static {
    try (CanonicalExecutor ex = CanonicalExecutor.create(MODEL)) {
      TRACE = ex.runTraced(Fixtures.images(1, 22)).trace();
    }
  }

  @Property(tries = 60)
  void aFlippedBitInAnyInputTensorIsRejected(@ForAll @IntRange(min = 0, max = 10_000) int step,
      @ForAll @IntRange(min = 0, max = 1_000_000) int position, @ForAll @IntRange(max = 7) int bit) {
    StepOpening o = TRACE.open(step % TRACE.size());
    List<Tensor> in = new ArrayList<>(o.inputs());
    int which = position % in.size();
    Tensor t = in.get(which);
    byte[] bytes = t.bytes();
    bytes[position % bytes.length] ^= (byte) (1 << bit);
    in.set(which, Tensor.ofBytes(t.type(), t.shape(), bytes));
    assertThrows(VerificationException.class,
        () -> Trace.verifyStep(MODEL, TRACE.root(), new StepOpening(o.step(), o.proof(), in)));
  }

  @Property(tries = 60)
  void aFlippedBitInTheCommittedOutputIsRejected(
      @ForAll @IntRange(min = 0, max = 10_000) int step, @ForAll @IntRange(max = 255) int bit) {
    StepOpening o = TRACE.open(step % TRACE.size());
    byte[] h = o.step().output().toBytes();
    h[bit / 8] ^= (byte) (1 << (bit % 8));
    TraceStep s = o.step();
    TraceStep changed = new TraceStep(s.index(), s.node(), s.opType(), s.inputs(), Hash.wrap(h));
    assertThrows(VerificationException.class,
        () -> Trace.verifyStep(MODEL, TRACE.root(), new StepOpening(changed, o.proof(), o.inputs())));
  }
}
