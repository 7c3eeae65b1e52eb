# Monte Carlo power of Fisher's exact test in R, timed inside R (benchmarks/r_baselines.py runs it).
#
#   Rscript fisher_power.R METHOD N1 P1 N2 P2 ALPHA ALTERNATIVE TRIALS SEED
#
# METHOD "statmod": statmod::power.fisher.test(p1, p2, n1, n2, alpha, nsim, alternative), which
#   draws both groups' counts with rbinom and calls fisher.test on every trial (it rejects when
#   p < alpha).
# METHOD "lookup": the same draws, then fisher.test once per distinct table (tabulate of the
#   table keys) and power = the share of trials whose table rejects (p <= alpha * (1 + 1e-7), as
#   simtrial decides).
# ALTERNATIVE is R's: two.sided, greater (group 1's rate higher) or less.
# Prints one line of JSON: power, seconds (the computation only, not R's start-up), tables.

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 9) stop("usage: fisher_power.R METHOD N1 P1 N2 P2 ALPHA ALTERNATIVE TRIALS SEED")
method <- args[1]
n1 <- as.integer(args[2]); p1 <- as.numeric(args[3])
n2 <- as.integer(args[4]); p2 <- as.numeric(args[5])
alpha <- as.numeric(args[6]); alternative <- args[7]
trials <- as.integer(args[8]); seed <- as.integer(args[9])
set.seed(seed)

if (method == "statmod") {
  suppressPackageStartupMessages(library(statmod))
  started <- Sys.time()
  power <- power.fisher.test(p1, p2, n1, n2, alpha = alpha, nsim = trials, alternative = alternative)
  seconds <- as.numeric(difftime(Sys.time(), started, units = "secs"))
  tables <- trials
  version <- as.character(packageVersion("statmod"))
} else if (method == "lookup") {
  started <- Sys.time()
  x1 <- rbinom(trials, n1, p1)
  x2 <- rbinom(trials, n2, p2)
  counts <- tabulate(x1 * (n2 + 1L) + x2 + 1L, nbins = (n1 + 1L) * (n2 + 1L))
  seen <- which(counts > 0L) - 1L
  a <- seen %/% (n2 + 1L)
  b <- seen %% (n2 + 1L)
  p <- vapply(seq_along(seen), function(i) {
    fisher.test(matrix(c(a[i], n1 - a[i], b[i], n2 - b[i]), 2, 2), alternative = alternative)$p.value
  }, numeric(1))
  power <- sum(counts[seen + 1L][p <= alpha * (1 + 1e-7)]) / trials
  seconds <- as.numeric(difftime(Sys.time(), started, units = "secs"))
  tables <- length(seen)
  version <- ""
} else {
  stop(paste("unknown method", method))
}
cat(sprintf('{"power": %.17g, "seconds": %.17g, "tables": %d, "r_version": "%s", "package_version": "%s"}\n',
            power, seconds, as.integer(tables), paste(R.version$major, R.version$minor, sep = "."), version))
