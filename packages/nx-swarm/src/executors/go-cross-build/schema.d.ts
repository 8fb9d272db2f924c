export interface GoCrossBuildExecutorSchema {
  /** Package path of the main package, relative to the project root. Default ".". */
  main?: string;
  /** Output folder relative to the workspace root. Default "dist/{projectRoot}". */
  outputPath?: string;
  /** Binary base name. Default: the project name. */
  binaryName?: string;
  /** GOOS/GOARCH[/variant] targets. Default ["linux/amd64"]. */
  targets?: string[];
  /** Enable cgo. Default false (CGO_ENABLED=0, static binaries). */
  cgo?: boolean;
  /** Linker flags. Default "-s -w"; "-buildid=" is always added. */
  ldflags?: string;
  /** Build tags. */
  tags?: string[];
  /** Remove file system paths from the binaries. Default true. */
  trimpath?: boolean;
  /** Extra environment variables for `go build`. */
  env?: Record<string, string>;
  /** Extra `go build` arguments. */
  flags?: string[];
  /** Print the packages and commands go runs. */
  verbose?: boolean;
}
