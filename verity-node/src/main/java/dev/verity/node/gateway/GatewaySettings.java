package dev.verity.node.gateway;

import java.time.Duration;

/**
 * How a gateway forwards inference (settings {@code gateway.*}, docs/CONFIG.md).
 *
 * @param deadline longest one client request may take at the gateway, all attempts and waiting
 *     included; past it the client gets 504 (retryable)
 * @param attemptTimeout longest one attempt on one worker may take before the gateway gives up on
 *     that worker and tries another (under the same request id)
 * @param attempts most workers one request is tried on
 * @param maxOutstanding most requests the gateway holds at once (forwarded or waiting for a free
 *     worker); more are answered 429 with Retry-After at once
 * @param queueWait longest a request waits for a worker with spare capacity; then 503 with
 *     Retry-After
 */
public record GatewaySettings(
    Duration deadline, Duration attemptTimeout, int attempts, int maxOutstanding, Duration queueWait) {

  public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(30);
  public static final Duration DEFAULT_ATTEMPT_TIMEOUT = Duration.ofSeconds(10);
  public static final int DEFAULT_ATTEMPTS = 3;
  public static final int DEFAULT_MAX_OUTSTANDING = 1024;
  public static final Duration DEFAULT_QUEUE_WAIT = Duration.ofSeconds(2);

  public GatewaySettings {
    if (deadline.toMillis() < 1 || attemptTimeout.toMillis() < 1 || queueWait.isNegative()) {
      throw new IllegalArgumentException("gateway.deadline_millis and gateway.attempt_millis must be positive and"
          + " gateway.queue_millis not negative");
    }
    if (attempts < 1 || attempts > 16) {
      throw new IllegalArgumentException("gateway.attempts must be 1..16, got " + attempts);
    }
    if (maxOutstanding < 1 || maxOutstanding > 1_000_000) {
      throw new IllegalArgumentException("gateway.max_outstanding must be 1..1000000, got " + maxOutstanding);
    }
  }

  public static GatewaySettings defaults() {
    return new GatewaySettings(DEFAULT_DEADLINE, DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_ATTEMPTS, DEFAULT_MAX_OUTSTANDING,
        DEFAULT_QUEUE_WAIT);
  }

  public GatewaySettings withAttemptTimeout(Duration d) {
    return new GatewaySettings(deadline, d, attempts, maxOutstanding, queueWait);
  }

  public GatewaySettings withDeadline(Duration d) {
    return new GatewaySettings(d, attemptTimeout, attempts, maxOutstanding, queueWait);
  }

  public GatewaySettings withMaxOutstanding(int n) {
    return new GatewaySettings(deadline, attemptTimeout, attempts, n, queueWait);
  }

  public GatewaySettings withQueueWait(Duration d) {
    return new GatewaySettings(deadline, attemptTimeout, attempts, maxOutstanding, d);
  }
}
