package dev.verity.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Hash;
import dev.verity.core.crypto.Address;
import dev.verity.ledger.StateRecord;
import dev.verity.protocol.InferenceReceipt;
import dev.verity.protocol.VerificationMode;
import dev.verity.sdk.InferenceResult;
import dev.verity.sdk.LedgerClient;
import dev.verity.sdk.ModelRef;
import dev.verity.sdk.VerityApiException;
import dev.verity.sdk.VerityClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chaos under paid load, in one JVM (nodes in-process, real HTTP, real ledger files): four clients
 * send paid requests through the gateway (the sequencer node) to three workers; a worker is
 * stopped, then the hub that first held the model (worker 0), then both are started again on their
 * data directories. Every request either completes with a receipt the SDK verified (a live
 * registered worker's) or fails with an error the client can retry (or 409 job-used: the job was
 * paid by an earlier attempt); no job is charged twice, and the ledger's balances move by exactly
 * what the jobs charged. Bounded by request counts, not by time.
 */
class GatewayChaosTest {
  @TempDir Path dir;

  /** What happened to one request and its job. */
  record Outcome(Hash job, Optional<InferenceReceipt> receipt, Optional<VerityApiException> error) {}

  @Test
  void everyRequestCompletesOrFailsRetryablyAndNothingIsChargedTwice() throws Exception {
    try (PaidNetwork net = PaidNetwork.start(dir, 3, GatewayHarness.FAST);
        VerityClient c = net.client()) {
      LedgerClient l = c.ledger();
      Map<String, Address> parties = new LinkedHashMap<>();
      parties.put("client", net.client.address());
      parties.put("owner", net.owner.address());
      parties.put("treasury", net.sequencerKey.address());
      for (int i = 0; i < 3; i++) {
        parties.put("worker" + i, net.workerAddress(i));
      }
      Map<String, Long> before = balances(l, parties);

      List<Outcome> outcomes = java.util.Collections.synchronizedList(new ArrayList<>());
      AtomicInteger completed = new AtomicInteger();
      AtomicBoolean stop = new AtomicBoolean();
      List<Future<?>> clients = new ArrayList<>();
      try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
        for (int t = 0; t < 4; t++) {
          int thread = t;
          clients.add(pool.submit(() -> {
            for (int i = 0; !stop.get(); i++) {
              Hash job = l.openJob(net.manifest.cid(), Optional.empty(), PaidNetwork.PRICE);
              try {
                InferenceResult r = c.infer(ModelRef.ofManifest(net.manifest.cid()),
                    NodeHarness.sampleInputs(net.model, (thread + i) % 2), VerificationMode.RECEIPT,
                    UUID.randomUUID().toString(), Optional.of(job));
                outcomes.add(new Outcome(job, Optional.of(r.receipt()), Optional.empty()));
              } catch (VerityApiException e) {
                outcomes.add(new Outcome(job, Optional.empty(), Optional.of(e)));
              }
              completed.incrementAndGet();
            }
            return null;
          }));
        }
        awaitCompleted(completed, 15);
        net.stopWorker(1); // a worker
        awaitCompleted(completed, 30);
        net.stopWorker(0); // the hub that first held the model
        awaitCompleted(completed, 45);
        net.startWorker(1);
        net.startWorker(0);
        net.awaitLive(1);
        net.awaitLive(0);
        awaitCompleted(completed, 70);
        stop.set(true);
        for (Future<?> f : clients) {
          f.get(120, TimeUnit.SECONDS); // no client saw anything but a result or an API error
        }
      }

      for (Outcome o : outcomes) {
        if (o.receipt().isPresent()) {
          awaitPaid(l, o.job()); // settled with its receipt committed
        }
      }
      // jobs and balances read at one moment: read the jobs again until nothing changed meanwhile
      Map<Hash, StateRecord.Job> jobs;
      Map<String, Long> after;
      for (int round = 0; ; round++) {
        Map<Hash, StateRecord.Job> first = jobs(l, outcomes);
        after = balances(l, parties);
        jobs = jobs(l, outcomes);
        if (first.equals(jobs)) {
          break;
        }
        assertTrue(round < 50, "the ledger kept changing");
      }
      int succeeded = 0;
      int raced = 0;
      for (Outcome o : outcomes) {
        StateRecord.Job j = jobs.get(o.job());
        assertTrue(j.charged() <= PaidNetwork.PRICE, "a job is charged at most once: " + j);
        if (o.receipt().isPresent()) {
          succeeded++;
          InferenceReceipt r = o.receipt().get();
          assertEquals(StateRecord.Job.Status.SETTLED, j.status(), "the job of a completed request is paid");
          assertEquals(PaidNetwork.PRICE, j.charged());
          assertEquals(1, j.receipts(), "one receipt committed per job");
          if (!j.worker().orElseThrow().equals(r.node().address())) {
            raced++; // an earlier attempt's worker journalled the job first and was paid; the client paid once
          }
        } else {
          VerityApiException e = o.error().get();
          assertTrue(e.retryable() || e.status() == 409 && e.type().equals("job-used"),
              "a failure the client can act on: " + e.getMessage());
          assertTrue(j.status() == StateRecord.Job.Status.OPEN || j.status() == StateRecord.Job.Status.SETTLED,
              "an unanswered job is still open (reclaimable) or paid once: " + j.status());
        }
      }
      assertTrue(succeeded >= 60, "most requests completed: " + succeeded + " of " + outcomes.size());

      long settled = jobs.values().stream().filter(j -> j.status() == StateRecord.Job.Status.SETTLED).count();
      long charged = jobs.values().stream().mapToLong(StateRecord.Job::charged).sum();
      long escrowedOpen = jobs.values().stream().filter(j -> j.status() == StateRecord.Job.Status.OPEN)
          .mapToLong(StateRecord.Job::escrow).sum();
      assertEquals(settled * PaidNetwork.PRICE, charged);
      assertEquals(-(charged + escrowedOpen), after.get("client") - before.get("client"), "the client paid what the jobs charged");
      assertEquals(settled * PaidNetwork.ROYALTY, after.get("owner") - before.get("owner"), "the owner got each royalty once");
      long delta = 0;
      for (String p : parties.keySet()) {
        delta += after.get(p) - before.get(p);
      }
      assertEquals(-escrowedOpen, delta, "nothing created or lost: every unit moved between these parties or is in escrow");
      System.out.println("chaos: " + outcomes.size() + " requests, " + succeeded + " completed, " + settled
          + " jobs settled, " + raced + " paid to an earlier attempt's worker, balances moved " + before + " -> " + after);
    }
  }

  static void awaitCompleted(AtomicInteger completed, int n) throws InterruptedException {
    RemoteLedgerTest.await(n + " requests completed", () -> completed.get() >= n);
  }

  static Map<String, Long> balances(LedgerClient l, Map<String, Address> parties) throws Exception {
    Map<String, Long> b = new LinkedHashMap<>();
    for (Map.Entry<String, Address> e : parties.entrySet()) {
      b.put(e.getKey(), l.account(e.getValue(), true).account().balance());
    }
    return b;
  }

  static Map<Hash, StateRecord.Job> jobs(LedgerClient l, List<Outcome> outcomes) throws Exception {
    Map<Hash, StateRecord.Job> m = new LinkedHashMap<>();
    for (Outcome o : outcomes) {
      m.put(o.job(), l.job(o.job()).job());
    }
    return m;
  }

  /** Waits (bounded) until the job is settled and its receipt committed. */
  static void awaitPaid(LedgerClient l, Hash job) throws Exception {
    long end = System.nanoTime() + PaidNetwork.DEADLINE.toNanos();
    StateRecord.Job j;
    while (!((j = l.job(job).job()).status() == StateRecord.Job.Status.SETTLED && j.receipts() == 1)) {
      if (System.nanoTime() - end > 0) {
        throw new AssertionError("job " + job + " of a completed request is " + j.status() + " with " + j.receipts()
            + " receipts");
      }
      Thread.sleep(50); // polling interval of a bounded wait
    }
  }
}
