package dev.verity.hub;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.VerificationException;
import dev.verity.core.crypto.Address;
import dev.verity.core.io.AtomicFiles;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.Names;
import dev.verity.protocol.YankNotice;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Model repositories and their immutable versions. A repository is named by its owner's address and
 * a name; a version maps to exactly one signed {@link ModelManifest} and can never be overwritten,
 * only yanked (marked as not to be used) by a signed {@link YankNotice}.
 *
 * <p>On disk, under its root: {@code manifests/<cid>} holds each manifest's canonical bytes,
 * {@code repos/<owner>/<repo>/<version>.cid} the CID a version points to, and {@code
 * repos/<owner>/<repo>/<version>.yank} a yank notice. Every file is written atomically and fsynced
 * before the call returns; a version file is written last, so a crash never exposes a version whose
 * manifest is missing. Everything is loaded into memory at open, and the in-memory index is the
 * one read path. Thread-safe.
 */
public final class ModelRegistry {
  private final Path root;
  private final Map<Cid, ModelManifest> manifests = new ConcurrentHashMap<>();
  private final Map<String, Map<String, VersionEntry>> repos = new ConcurrentHashMap<>();

  /** One published version of a repository, with its yank state. */
  public record VersionEntry(ModelManifest manifest, Optional<YankNotice> yank) {
    public boolean yanked() {
      return yank.isPresent();
    }
  }

  /** A repository and its versions in publication order. */
  public record Repository(Address owner, String name, List<VersionEntry> versions) {
    public String id() {
      return owner + "/" + name;
    }
  }

  private ModelRegistry(Path root) {
    this.root = root;
  }

  /** Opens (creating if needed) the registry under {@code root} and loads its index. */
  public static ModelRegistry open(Path root) throws IOException {
    ModelRegistry r = new ModelRegistry(root);
    Files.createDirectories(root.resolve("manifests"));
    Files.createDirectories(root.resolve("repos"));
    r.load();
    return r;
  }

  private void load() throws IOException {
    try (DirectoryStream<Path> owners = Files.newDirectoryStream(root.resolve("repos"))) {
      for (Path ownerDir : owners) {
        try (DirectoryStream<Path> names = Files.newDirectoryStream(ownerDir)) {
          for (Path repoDir : names) {
            try (DirectoryStream<Path> files = Files.newDirectoryStream(repoDir, "*.cid")) {
              for (Path f : files) {
                Cid cid = Cid.parse(Files.readString(f).trim());
                ModelManifest m = ModelManifest.decode(Files.readAllBytes(root.resolve("manifests").resolve(cid.toString())));
                if (!m.cid().equals(cid)) {
                  throw new IOException("manifest file for " + cid + " is corrupt");
                }
                manifests.put(cid, m);
                Path yankFile = repoDir.resolve(m.version() + ".yank");
                Optional<YankNotice> yank = Files.exists(yankFile)
                    ? Optional.of(YankNotice.decode(Files.readAllBytes(yankFile)))
                    : Optional.empty();
                repoMap(key(m.ownerAddress(), m.repository())).put(m.version(), new VersionEntry(m, yank));
              }
            }
          }
        }
      }
    }
  }

  private static String key(Address owner, String repo) {
    return owner + "/" + repo;
  }

  private Map<String, VersionEntry> repoMap(String key) {
    return repos.computeIfAbsent(key, k -> Collections.synchronizedMap(new TreeMap<>()));
  }

  /**
   * Publishes a new version after checking its signature. The caller has already checked that the
   * model blob is stored and matches the manifest.
   *
   * @throws VerificationException if the manifest's signature or delegation does not verify
   * @throws VersionExistsException if the repository already has this version (versions are immutable)
   */
  public VersionEntry publish(ModelManifest m) throws VerificationException, IOException {
    m.verify();
    String k = key(m.ownerAddress(), m.repository());
    Map<String, VersionEntry> versions = repoMap(k);
    synchronized (versions) {
      VersionEntry existing = versions.get(m.version());
      if (existing != null) {
        throw new VersionExistsException(m.repositoryId(), m.version(), existing.manifest().cid());
      }
      Cid cid = m.cid();
      AtomicFiles.write(root.resolve("manifests").resolve(cid.toString()), m.encode());
      Path repoDir = root.resolve("repos").resolve(m.ownerAddress().toString()).resolve(m.repository());
      AtomicFiles.write(repoDir.resolve(m.version() + ".cid"), cid.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      manifests.put(cid, m);
      VersionEntry e = new VersionEntry(m, Optional.empty());
      versions.put(m.version(), e);
      return e;
    }
  }

  /** Marks a version as yanked; idempotent for the same version. */
  public VersionEntry yank(YankNotice notice) throws VerificationException, IOException {
    ModelManifest m = manifest(notice.manifest())
        .orElseThrow(() -> new DecodingException("no manifest " + notice.manifest() + " in this hub"));
    notice.verify(m);
    Map<String, VersionEntry> versions = repoMap(key(m.ownerAddress(), m.repository()));
    synchronized (versions) {
      VersionEntry e = versions.get(m.version());
      if (e.yanked()) {
        return e;
      }
      Path repoDir = root.resolve("repos").resolve(m.ownerAddress().toString()).resolve(m.repository());
      AtomicFiles.write(repoDir.resolve(m.version() + ".yank"), notice.encode());
      VersionEntry y = new VersionEntry(m, Optional.of(notice));
      versions.put(m.version(), y);
      return y;
    }
  }

  public Optional<ModelManifest> manifest(Cid cid) {
    return Optional.ofNullable(manifests.get(cid));
  }

  public Optional<VersionEntry> version(Address owner, String repo, String version) {
    Map<String, VersionEntry> v = repos.get(key(owner, repo));
    return v == null ? Optional.empty() : Optional.ofNullable(v.get(version));
  }

  /** The entry for a manifest CID, with its current yank state. */
  public Optional<VersionEntry> entry(Cid manifestCid) {
    return manifest(manifestCid).flatMap(m -> version(m.ownerAddress(), m.repository(), m.version()));
  }

  /** The newest version that is not yanked (by creation time). */
  public Optional<VersionEntry> latest(Address owner, String repo) {
    return repository(owner, repo).flatMap(r -> r.versions().stream()
        .filter(e -> !e.yanked())
        .max(java.util.Comparator.comparingLong(e -> e.manifest().createdAtMillis())));
  }

  public Optional<Repository> repository(Address owner, String repo) {
    Names.repository(repo);
    Map<String, VersionEntry> v = repos.get(key(owner, repo));
    if (v == null || v.isEmpty()) {
      return Optional.empty();
    }
    synchronized (v) {
      List<VersionEntry> list = new ArrayList<>(v.values());
      list.sort(java.util.Comparator.comparingLong(e -> e.manifest().createdAtMillis()));
      return Optional.of(new Repository(owner, repo, List.copyOf(list)));
    }
  }

  public List<Repository> repositories() {
    List<Repository> out = new ArrayList<>();
    for (String k : new TreeMap<>(repos).keySet()) {
      int slash = k.indexOf('/');
      repository(Address.parse(k.substring(0, slash)), k.substring(slash + 1)).ifPresent(out::add);
    }
    return out;
  }

  /** Every model blob CID some manifest refers to (for replication and garbage collection). */
  public List<Cid> modelBlobs() {
    return manifests.values().stream().map(ModelManifest::model).distinct().toList();
  }

  /** A version that already exists; versions are never overwritten. */
  public static final class VersionExistsException extends IOException {
    private static final long serialVersionUID = 1L;

    public VersionExistsException(String repo, String version, Cid existing) {
      super("version '" + version + "' of " + repo + " already exists (manifest " + existing
          + "); versions are immutable, publish a new version instead");
    }
  }

}
