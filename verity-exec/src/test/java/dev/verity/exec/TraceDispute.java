package dev.verity.exec;

import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.merkle.MerkleTree;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxNode;
import dev.verity.onnx.OnnxValueInfo;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The optimistic dispute of one job, played out at the executor level between a worker's claim
 * and a challenger's: the same rules as the ledger's dispute game (docs/OPTIMISTIC.md) without
 * transactions, deadlines or money, so that a cheat can be run against the honest recomputation
 * in microseconds and the step that convicts it reported.
 *
 * <ol>
 *   <li>Equal commitments (root, steps, outputs CID): no dispute.
 *   <li>A step count other than the model's node count loses at once.
 *   <li>Equal roots, different outputs: the worker opens the steps that write the graph outputs;
 *       their output hashes must be the hashes of the outputs it returned.
 *   <li>Different roots: bisection over the two RFC 6962 trees. At each subtree the worker reveals
 *       its two children (they must hash to its node), then the challenger; the game descends into
 *       the leftmost child where they differ. A party that cannot answer loses (its deadline).
 *   <li>At the leftmost differing leaf i the worker opens step i. The referee checks it with
 *       {@link Trace#verifyStep} (inclusion, node, committed input hashes, initializers, the one
 *       operator recomputed) and the provenance of its inputs: a graph input must hash to the
 *       job's tensor, an intermediate must equal the output committed by the worker's leaf of the
 *       step that produced it. All pass: the challenger loses; any fails: the worker does.
 * </ol>
 *
 * <p>Whoever plays honestly wins: if the worker's leftmost differing leaf passed every check its
 * inputs and output would equal the honest run's, so the leaves would not differ.
 */
public final class TraceDispute {
  private TraceDispute() {}

  /** Who lost the dispute. */
  public enum Party { NONE, WORKER, CHALLENGER }

  /** The rule that decided the dispute. */
  public enum Stage {
    /** Both commit the same; nothing to dispute. */
    NO_DISPUTE("no dispute"),
    /** A step count other than the model's node count (ruled at once). */
    STEP_COUNT("step count"),
    /** A party could not reveal children hashing to its node during bisection (deadline). */
    BISECTION_TIMEOUT("bisection: cannot answer"),
    /** The opened step reads a parameter tensor that is not the model's initializer. */
    INITIALIZER("step check: not the model's weights"),
    /** The opened step reads a graph input that is not the job's input. */
    GRAPH_INPUT("step check: not the job's input"),
    /** The opened step reads an intermediate other than what its producer step committed. */
    CHAINED_INPUT("step check: input not the producer's output"),
    /** Recomputing the opened step's operator gives another output. */
    RECOMPUTE("step check: operator recomputed"),
    /** The opening fails another check of {@link Trace#verifyStep} (proof, node, input hashes). */
    OPENING("step check: opening invalid"),
    /** The returned outputs are not what the trace's output steps commit. */
    OUTPUTS("outputs differ from trace"),
    /** The opened step passed every check: the worker was right. */
    STEP_UPHELD("step upheld"),
    /** The worker's output steps commit exactly the outputs it returned. */
    OUTPUTS_UPHELD("outputs match trace");

    private final String label;

    Stage(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  /**
   * The outcome of a dispute.
   *
   * @param loser who lost
   * @param stage the rule that decided it
   * @param step the step the referee looked at (-1 if none)
   * @param rounds bisection rounds played
   * @param operatorsRecomputed operators the referee recomputed (0 or 1)
   * @param reason what the deciding check found
   */
  public record Ruling(Party loser, Stage stage, int step, int rounds, int operatorsRecomputed,
      String reason) {
    public Ruling {
      Objects.requireNonNull(loser, "loser");
      Objects.requireNonNull(stage, "stage");
      Objects.requireNonNull(reason, "reason");
    }

    /** Moves on the ledger: two reveals per bisection round, plus the final opening if any. */
    public int moves() {
      return 2 * rounds + (step >= 0 ? 1 : 0);
    }
  }

  /**
   * Plays the dispute of a job ({@code model} run on {@code inputs}) between the worker's claim
   * and the challenger's.
   */
  public static Ruling settle(OnnxModel model, NamedTensors inputs, WorkerClaim worker,
      WorkerClaim challenger) {
    int n = model.graph().nodes().size();
    if (worker.sameCommitment(challenger)) {
      return new Ruling(Party.NONE, Stage.NO_DISPUTE, -1, 0, 0, "the commitments agree");
    }
    if (worker.steps() != n) {
      return new Ruling(Party.WORKER, Stage.STEP_COUNT, -1, 0, 0,
          "the worker commits " + worker.steps() + " steps; the model has " + n + " nodes");
    }
    if (challenger.steps() != n) {
      return new Ruling(Party.CHALLENGER, Stage.STEP_COUNT, -1, 0, 0,
          "the challenger claims " + challenger.steps() + " steps; the model has " + n + " nodes");
    }
    if (worker.root().equals(challenger.root())) {
      return outputsClaim(model, worker);
    }
    return bisect(model, inputs, worker, challenger, n);
  }

  private static Ruling outputsClaim(OnnxModel model, WorkerClaim worker) {
    if (worker.trace().isEmpty()) {
      return new Ruling(Party.WORKER, Stage.BISECTION_TIMEOUT, -1, 0, 0,
          "the worker cannot open the steps writing its outputs");
    }
    Trace t = worker.trace().get();
    Map<String, Integer> producer = producers(model);
    for (OnnxValueInfo o : model.outputs()) {
      int p = producer.get(o.name());
      TraceStep s = t.step(p);
      Tensor returned = worker.outputs().asMap().get(o.name());
      if (returned == null || !TraceStep.tensorHash(returned).equals(s.output())) {
        return new Ruling(Party.WORKER, Stage.OUTPUTS, p, 0, 0, "output '" + o.name()
            + "' returned to the client is not the tensor step " + p + " commits");
      }
    }
    return new Ruling(Party.CHALLENGER, Stage.OUTPUTS_UPHELD, -1, 0, 0,
        "every output is the tensor the worker's trace commits");
  }

  private static Ruling bisect(OnnxModel model, NamedTensors inputs, WorkerClaim worker,
      WorkerClaim challenger, int n) {
    int lo = 0;
    int hi = n;
    Hash w = worker.root();
    Hash c = challenger.root();
    int rounds = 0;
    while (hi - lo > 1) {
      rounds++;
      int mid = lo + Integer.highestOneBit(hi - lo - 1);
      Optional<Hash[]> wr = reveal(worker, lo, mid, hi, w);
      if (wr.isEmpty()) {
        return new Ruling(Party.WORKER, Stage.BISECTION_TIMEOUT, -1, rounds, 0,
            "the worker cannot reveal children of its node over steps [" + lo + ", " + hi + ")");
      }
      Optional<Hash[]> cr = reveal(challenger, lo, mid, hi, c);
      if (cr.isEmpty()) {
        return new Ruling(Party.CHALLENGER, Stage.BISECTION_TIMEOUT, -1, rounds, 0,
            "the challenger cannot reveal children of its node over steps [" + lo + ", " + hi
                + ")");
      }
      if (!wr.get()[0].equals(cr.get()[0])) {
        hi = mid;
        w = wr.get()[0];
        c = cr.get()[0];
      } else {
        lo = mid;
        w = wr.get()[1];
        c = cr.get()[1];
      }
    }
    return referee(model, inputs, worker, lo, rounds);
  }

  /** The party's two children of its subtree [lo, hi), if it holds a trace that matches {@code node}. */
  private static Optional<Hash[]> reveal(WorkerClaim party, int lo, int mid, int hi, Hash node) {
    if (party.trace().isEmpty() || party.trace().get().size() != party.steps()) {
      return Optional.empty();
    }
    List<TraceStep> steps = party.trace().get().steps();
    Hash left = subtree(steps, lo, mid);
    Hash right = subtree(steps, mid, hi);
    MessageDigest d = Hash.newDigest();
    d.update((byte) 1);
    left.updateDigest(d);
    right.updateDigest(d);
    return Hash.fromDigest(d).equals(node) ? Optional.of(new Hash[] {left, right})
        : Optional.empty();
  }

  private static Hash subtree(List<TraceStep> steps, int from, int to) {
    List<byte[]> leaves = new ArrayList<>(to - from);
    for (int i = from; i < to; i++) {
      leaves.add(steps.get(i).leaf());
    }
    return MerkleTree.ofLeaves(leaves).root();
  }

  private static Ruling referee(OnnxModel model, NamedTensors inputs, WorkerClaim worker, int i,
      int rounds) {
    if (worker.trace().isEmpty()) {
      return new Ruling(Party.WORKER, Stage.BISECTION_TIMEOUT, i, rounds, 0,
          "the worker cannot open step " + i);
    }
    Trace t = worker.trace().get();
    StepOpening o = t.open(i);
    try {
      Trace.verifyStep(model, worker.root(), o);
    } catch (VerificationException e) {
      String m = e.getMessage();
      Stage s = m.contains("initializer") ? Stage.INITIALIZER
          : m.contains("recomputing it gives") ? Stage.RECOMPUTE : Stage.OPENING;
      return new Ruling(Party.WORKER, s, i, rounds, s == Stage.RECOMPUTE ? 1 : 0, m);
    }
    OnnxNode node = model.graph().nodes().get(i);
    Map<String, Integer> producer = producers(model);
    int k = 0;
    for (String name : node.inputs()) {
      if (name.isEmpty()) {
        continue;
      }
      Hash committed = o.step().inputs().get(k++);
      Tensor request = inputs.asMap().get(name);
      if (model.graph().initializer(name).isPresent()) {
        continue; // checked by verifyStep
      }
      if (request != null && producer.get(name) == null) {
        if (!TraceStep.tensorHash(request).equals(committed)) {
          return new Ruling(Party.WORKER, Stage.GRAPH_INPUT, i, rounds, 1, "step " + i
              + " reads graph input '" + name + "' with a hash other than the job's input");
        }
        continue;
      }
      Integer j = producer.get(name);
      if (j == null || j >= i) {
        return new Ruling(Party.WORKER, Stage.CHAINED_INPUT, i, rounds, 1,
            "step " + i + " reads '" + name + "', which no earlier step produces");
      }
      StepOpening pj = t.open(j);
      try {
        MerkleTree.verifyInclusion(worker.root(), worker.steps(), pj.step().leaf(), pj.proof());
      } catch (VerificationException e) {
        return new Ruling(Party.WORKER, Stage.CHAINED_INPUT, i, rounds, 1, e.getMessage());
      }
      if (!pj.step().output().equals(committed)) {
        return new Ruling(Party.WORKER, Stage.CHAINED_INPUT, i, rounds, 1, "step " + i
            + " reads '" + name + "' with a hash other than step " + j + " committed");
      }
    }
    return new Ruling(Party.CHALLENGER, Stage.STEP_UPHELD, i, rounds, 1,
        "step " + i + " (" + node.opType() + ") is correct");
  }

  /** Graph value name -> index of the node writing it. */
  private static Map<String, Integer> producers(OnnxModel model) {
    Map<String, Integer> m = new HashMap<>();
    List<OnnxNode> nodes = model.graph().nodes();
    for (int i = 0; i < nodes.size(); i++) {
      m.put(nodes.get(i).outputs().get(0), i);
    }
    return m;
  }
}
