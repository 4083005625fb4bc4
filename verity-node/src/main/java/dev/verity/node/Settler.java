package dev.verity.node;

import dev.verity.core.Hash;
import dev.verity.core.crypto.Signer;
import dev.verity.ledger.Action;
import dev.verity.ledger.Committed;
import dev.verity.ledger.Ledger;
import dev.verity.ledger.LedgerView;
import dev.verity.ledger.StateRecord;
import dev.verity.ledger.Transaction;
import dev.verity.ledger.TransactionRejected;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Sends the node's own ledger transactions from one background thread, so that inference never
 * waits for a block: settlements and failures of jobs, batches of receipts, and the node's
 * registration as a worker.
 *
 * <p><b>Rounds.</b> The thread takes everything waiting (settlements and failures in the order they
 * came, a batch of receipts once {@code receiptBatch} are waiting or the oldest has waited {@code
 * receiptBatchDelay}, the registration when it is due), signs them with the node's key under
 * consecutive nonces starting from the account's committed nonce, submits them together and waits
 * for all of them. A receipt joins a batch only after its job's settlement is committed, because a
 * job opened for any worker names its worker only once settled.
 *
 * <p><b>Failures.</b> A transaction refused for its nonce (a refusal earlier in the round shifts the
 * nonces after it) or because the ledger is unavailable or the node cannot pay the fee is retried
 * in a later round. Any other refusal is final for that work: it is logged as an error naming the
 * job and the reason, and the job is marked done in the {@link SettlementJournal}. A batch of
 * receipts refused as a whole is split: receipts that can no longer be committed are dropped (and
 * logged), the rest retried.
 *
 * <p>{@link #close} stops taking work and keeps sending for up to the given grace period; what is
 * left stays owed in the journal and is resumed by the next start.
 */
final class Settler implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Settler.class.getName());
  private static final int MAX_ROUND = 1_000;
  private static final long REGISTRATION_BACKOFF_NANOS = Duration.ofSeconds(30).toNanos();
  private static final long RETRY_BACKOFF_MILLIS = 500;

  private final Ledger ledger;
  private final Signer operator;
  private final LedgerSettings settings;
  private final SettlementJournal journal;
  private final Function<LedgerView, Optional<Action>> registration;
  private final long registrationCheckNanos;
  private final Consumer<Hash> released;

  private final Object lock = new Object();
  private final ArrayDeque<SettlementJournal.Owed> work = new ArrayDeque<>();
  private final ArrayDeque<Action.CommitReceipts.Entry> receipts = new ArrayDeque<>();
  private final ArrayDeque<Other> others = new ArrayDeque<>();
  private long oldestReceiptNanos;
  private boolean registrationWanted;
  private long registrationBlockedUntil;
  private boolean closing;
  private long closeDeadline;
  private final Thread thread;

  /**
   * @param registration gives the registration (or heartbeat) this node should send given the
   *     committed state, or empty when the ledger already describes the node as it is and no
   *     heartbeat is due
   * @param registrationCheck how often {@code registration} is asked
   * @param released told when a job is no longer open because of this node's transaction
   */
  Settler(Ledger ledger, Signer operator, LedgerSettings settings, SettlementJournal journal,
      Function<LedgerView, Optional<Action>> registration, Duration registrationCheck, Consumer<Hash> released) {
    this.ledger = ledger;
    this.operator = operator;
    this.settings = settings;
    this.journal = journal;
    this.registration = registration;
    this.registrationCheckNanos = registrationCheck.toNanos();
    this.released = released;
    this.thread = Thread.ofPlatform().daemon().name("verity-settler").unstarted(this::run);
  }

  void start() {
    thread.start();
  }

  /** Settles {@code owed}'s job (paid) or fails it (unpaid), then commits its receipt. */
  void submit(SettlementJournal.Owed owed) {
    synchronized (lock) {
      work.add(owed);
      lock.notifyAll();
    }
  }

  /** Commits a receipt of a job that is already settled. */
  void commitReceipt(Action.CommitReceipts.Entry entry) {
    synchronized (lock) {
      addReceipt(entry);
      lock.notifyAll();
    }
  }

  /** Another transaction of this node (an attestation, a dispute move) and who waits for it. */
  private record Other(Action action, CompletableFuture<Committed> result) {}

  /**
   * Sends {@code action} as one of this node's transactions in the next round (so its nonce never
   * collides with the node's other transactions). The future completes when it is committed, or
   * exceptionally with {@link TransactionRejected} when the ledger refuses it for good (refusals for
   * the nonce or an unavailable ledger are retried).
   */
  CompletableFuture<Committed> send(Action action) {
    CompletableFuture<Committed> f = new CompletableFuture<>();
    synchronized (lock) {
      if (closing) {
        f.completeExceptionally(new TransactionRejected(TransactionRejected.Reason.UNAVAILABLE, "the node is stopping"));
        return f;
      }
      others.add(new Other(action, f));
      lock.notifyAll();
    }
    return f;
  }

  /** Asks for the node's registration to be brought up to date soon. */
  void requestRegistration() {
    synchronized (lock) {
      registrationWanted = true;
      lock.notifyAll();
    }
  }

  /** Work not yet committed: settlements and failures waiting, and receipts waiting for a batch. */
  int backlog() {
    synchronized (lock) {
      return work.size() + receipts.size();
    }
  }

  private void addReceipt(Action.CommitReceipts.Entry e) {
    if (receipts.isEmpty()) {
      oldestReceiptNanos = System.nanoTime();
    }
    receipts.add(e);
  }

  // ---- the thread ----

  private void run() {
    long nextRegistrationCheck = System.nanoTime();
    try {
      while (true) {
        List<SettlementJournal.Owed> round = new ArrayList<>();
        List<Action.CommitReceipts.Entry> batch = new ArrayList<>();
        List<Other> extra = new ArrayList<>();
        boolean register;
        synchronized (lock) {
          while (true) {
            long now = System.nanoTime();
            if (closing && now - closeDeadline > 0) {
              others.forEach(o -> o.result().completeExceptionally(
                  new TransactionRejected(TransactionRejected.Reason.UNAVAILABLE, "the node stopped before sending it")));
              others.clear();
              if (!work.isEmpty() || !receipts.isEmpty()) {
                LOG.log(System.Logger.Level.WARNING, "stopping with " + work.size() + " settlements and "
                    + receipts.size() + " receipts not committed; they stay in " + journal.file()
                    + " and are sent at the next start");
              }
              return;
            }
            boolean batchDue = !receipts.isEmpty() && (closing || receipts.size() >= settings.receiptBatch()
                || now - oldestReceiptNanos >= settings.receiptBatchDelay().toNanos());
            register = !closing && (registrationWanted || now - nextRegistrationCheck >= 0)
                && now - registrationBlockedUntil >= 0;
            if (!work.isEmpty() || batchDue || register || !others.isEmpty()) {
              while (!work.isEmpty() && round.size() < MAX_ROUND) {
                round.add(work.poll());
              }
              while (!others.isEmpty() && round.size() + extra.size() < MAX_ROUND) {
                extra.add(others.poll());
              }
              while (batchDue && !receipts.isEmpty() && batch.size() < settings.receiptBatch()) {
                batch.add(receipts.poll());
              }
              if (!receipts.isEmpty() && !batch.isEmpty()) {
                oldestReceiptNanos = now;
              }
              if (register) {
                registrationWanted = false;
              }
              break;
            }
            if (closing) {
              return;
            }
            long wait = nextRegistrationCheck - now;
            if (!receipts.isEmpty()) {
              wait = Math.min(wait, oldestReceiptNanos + settings.receiptBatchDelay().toNanos() - now);
            }
            lock.wait(Math.max(1, wait / 1_000_000));
          }
        }
        if (register) {
          nextRegistrationCheck = System.nanoTime() + registrationCheckNanos;
        }
        if (!send(round, batch, register, extra)) {
          synchronized (lock) {
            lock.wait(RETRY_BACKOFF_MILLIS);
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      LOG.log(System.Logger.Level.ERROR, "the node's settlement thread stopped; jobs owed stay in "
          + journal.file() + " and are sent at the next start", e);
    }
  }

  private enum Kind { REGISTER, SETTLE, FAIL, COMMIT, OTHER }

  private record Item(Kind kind, Action action, Optional<SettlementJournal.Owed> owed,
      List<Action.CommitReceipts.Entry> entries, Optional<Other> other) {
    Item(Kind kind, Action action, Optional<SettlementJournal.Owed> owed, List<Action.CommitReceipts.Entry> entries) {
      this(kind, action, owed, entries, Optional.empty());
    }
  }

  /**
   * Sends one round and handles every outcome.
   *
   * @return false if some work must wait before it is retried (ledger unavailable or no funds)
   */
  private boolean send(List<SettlementJournal.Owed> round, List<Action.CommitReceipts.Entry> batch, boolean register,
      List<Other> extra) {
    LedgerView view = ledger.view();
    List<Item> items = new ArrayList<>();
    if (register) {
      registration.apply(view).ifPresent(r -> items.add(new Item(Kind.REGISTER, r, Optional.empty(), List.of())));
    }
    for (SettlementJournal.Owed o : round) {
      Action a = o.paid()
          ? new Action.SettleJob(o.job(), 1, settings.operatorFee(), List.of())
          : new Action.FailJob(o.job());
      items.add(new Item(o.paid() ? Kind.SETTLE : Kind.FAIL, a, Optional.of(o), List.of()));
    }
    if (!batch.isEmpty()) {
      items.add(new Item(Kind.COMMIT, new Action.CommitReceipts(batch), Optional.empty(), batch));
    }
    for (Other o : extra) {
      items.add(new Item(Kind.OTHER, o.action(), Optional.empty(), List.of(), Optional.of(o)));
    }
    if (items.isEmpty()) {
      return true;
    }
    long nonce = view.account(operator.address()).nonce();
    long fee = ledger.genesis().minFee();
    List<CompletableFuture<Committed>> results = new ArrayList<>(items.size());
    for (Item it : items) {
      Transaction tx = new Transaction(ledger.genesis().chainId(), operator.publicKey(), nonce++, fee, it.action());
      results.add(ledger.submit(tx.sign(operator)));
    }
    boolean ok = true;
    List<Hash> done = new ArrayList<>();
    List<SettlementJournal.Owed> retry = new ArrayList<>();
    List<Action.CommitReceipts.Entry> retryReceipts = new ArrayList<>();
    List<Other> retryOthers = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      Item it = items.get(i);
      Optional<TransactionRejected> refusal = outcome(results.get(i));
      if (refusal.isEmpty()) {
        switch (it.kind()) {
          case REGISTER -> LOG.log(System.Logger.Level.DEBUG, it.action() instanceof Action.RegisterNode r
              ? "registered on the ledger as " + operator.address() + " (" + r.roles() + ") for " + r.models().size()
                  + " models" : "heartbeat of " + operator.address() + " committed");
          case SETTLE -> {
            released.accept(it.owed().get().job());
            synchronized (lock) {
              addReceipt(it.owed().get().entry());
            }
          }
          case FAIL -> {
            released.accept(it.owed().get().job());
            done.add(it.owed().get().job());
          }
          case COMMIT -> it.entries().forEach(e -> done.add(e.job()));
          case OTHER -> it.other().get().result().complete(committed(results.get(i)));
        }
        continue;
      }
      TransactionRejected r = refusal.get();
      boolean again = retryable(r.reason());
      if (r.reason() != TransactionRejected.Reason.BAD_NONCE && again) {
        ok = false;
        LOG.log(System.Logger.Level.WARNING, "ledger refused " + it.kind().name().toLowerCase(java.util.Locale.ROOT)
            + " for now, retrying: " + r.getMessage()
            + (r.reason() == TransactionRejected.Reason.INSUFFICIENT_FUNDS
                ? " (fund the node's address " + operator.address() + ")" : ""));
      }
      switch (it.kind()) {
        case REGISTER -> {
          if (again) {
            requestRegistration();
          } else {
            LOG.log(System.Logger.Level.WARNING, "could not register this node on the ledger (or send its heartbeat): "
                + r.getMessage() + "; jobs for it cannot be opened or settled and peers do not see it until it is"
                + " registered. Retrying in 30 s");
            synchronized (lock) {
              registrationBlockedUntil = System.nanoTime() + REGISTRATION_BACKOFF_NANOS;
            }
          }
        }
        case SETTLE, FAIL -> {
          SettlementJournal.Owed o = it.owed().get();
          if (again) {
            retry.add(o);
          } else if (it.kind() == Kind.SETTLE && settledByThisNode(o.job())) {
            synchronized (lock) {
              addReceipt(o.entry());
            }
          } else {
            LOG.log(System.Logger.Level.ERROR, (it.kind() == Kind.SETTLE ? "settling" : "failing") + " job " + o.job()
                + " was refused for good and is given up: " + r.getMessage());
            done.add(o.job());
          }
        }
        case COMMIT -> {
          if (again) {
            retryReceipts.addAll(it.entries());
          } else {
            splitRefusedBatch(it.entries(), r, retryReceipts, done);
          }
        }
        case OTHER -> {
          if (r.reason() == TransactionRejected.Reason.BAD_NONCE || r.reason() == TransactionRejected.Reason.UNAVAILABLE) {
            retryOthers.add(it.other().get());
          } else {
            it.other().get().result().completeExceptionally(r);
          }
        }
      }
    }
    synchronized (lock) {
      for (int i = retry.size() - 1; i >= 0; i--) {
        work.addFirst(retry.get(i));
      }
      for (int i = retryOthers.size() - 1; i >= 0; i--) {
        others.addFirst(retryOthers.get(i));
      }
      for (int i = retryReceipts.size() - 1; i >= 0; i--) {
        if (receipts.isEmpty()) {
          oldestReceiptNanos = System.nanoTime();
        }
        receipts.addFirst(retryReceipts.get(i));
      }
    }
    try {
      journal.done(done);
    } catch (IOException e) {
      LOG.log(System.Logger.Level.ERROR, "could not record finished ledger work in " + journal.file()
          + "; it will be checked again (and found done) at the next start", e);
    }
    return ok;
  }

  private static Committed committed(CompletableFuture<Committed> f) {
    return f.join(); // already completed normally
  }

  private static Optional<TransactionRejected> outcome(CompletableFuture<Committed> f) {
    try {
      f.get();
      return Optional.empty();
    } catch (ExecutionException | CompletionException e) {
      if (e.getCause() instanceof TransactionRejected r) {
        return Optional.of(r);
      }
      return Optional.of(new TransactionRejected(TransactionRejected.Reason.UNAVAILABLE, String.valueOf(e.getCause())));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.of(new TransactionRejected(TransactionRejected.Reason.UNAVAILABLE, "interrupted"));
    }
  }

  private static boolean retryable(TransactionRejected.Reason r) {
    return r == TransactionRejected.Reason.BAD_NONCE || r == TransactionRejected.Reason.UNAVAILABLE
        || r == TransactionRejected.Reason.INSUFFICIENT_FUNDS || r == TransactionRejected.Reason.FEE_TOO_LOW;
  }

  private boolean settledByThisNode(Hash job) {
    Optional<StateRecord.Job> j = ledger.view().job(job);
    return j.isPresent() && j.get().worker().equals(Optional.of(operator.address()))
        && (j.get().status() == StateRecord.Job.Status.SETTLED || j.get().status() == StateRecord.Job.Status.CHALLENGED);
  }

  /** Keeps the receipts of a refused batch that can still be committed; drops (and logs) the rest. */
  private void splitRefusedBatch(List<Action.CommitReceipts.Entry> entries, TransactionRejected r,
      List<Action.CommitReceipts.Entry> keep, List<Hash> done) {
    LedgerView v = ledger.view();
    List<Action.CommitReceipts.Entry> kept = new ArrayList<>();
    for (Action.CommitReceipts.Entry e : entries) {
      Optional<StateRecord.Job> j = v.job(e.job());
      boolean committable = j.isPresent()
          && j.get().worker().equals(Optional.of(operator.address()))
          && j.get().status() != StateRecord.Job.Status.FAILED
          && j.get().status() != StateRecord.Job.Status.INVALID
          && j.get().receipts() < j.get().inferences()
          && v.receipt(e.receipt()).isEmpty();
      if (committable) {
        kept.add(e);
      } else {
        if (v.receipt(e.receipt()).isEmpty()) {
          LOG.log(System.Logger.Level.ERROR, "receipt " + e.receipt() + " of job " + e.job()
              + " can no longer be committed and is dropped (" + r.getMessage() + ")");
        }
        done.add(e.job());
      }
    }
    if (kept.size() == entries.size()) {
      LOG.log(System.Logger.Level.ERROR, "a batch of " + entries.size() + " receipts was refused and none of them"
          + " explains why; dropping the batch: " + r.getMessage());
      entries.forEach(e -> done.add(e.job()));
      return;
    }
    keep.addAll(kept);
  }

  /** Stops taking work and sends what is waiting for at most {@code grace}; then the thread ends. */
  void close(Duration grace) {
    synchronized (lock) {
      if (closing) {
        return;
      }
      closing = true;
      closeDeadline = System.nanoTime() + grace.toNanos();
      lock.notifyAll();
    }
    if (thread.isAlive() || thread.getState() != Thread.State.NEW) {
      try {
        thread.join(grace.toMillis() + 5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public void close() {
    close(Duration.ofSeconds(10));
  }
}
