// Two-state HMM with Normal(mu[k], 1) emissions, states summed out by the
// forward algorithm (posteriordb's hmm_example, without its Viterbi
// generated quantities, which do not change the posterior).
data {
  int<lower=0> N;
  int<lower=0> K;
  array[N] real y;
}
parameters {
  simplex[K] theta1;
  simplex[K] theta2;
  positive_ordered[K] mu;
}
model {
  array[K] vector[K] log_theta;
  log_theta[1] = log(theta1);
  log_theta[2] = log(theta2);
  target += normal_lpdf(mu[1] | 3, 1);
  target += normal_lpdf(mu[2] | 10, 1);
  {
    vector[K] gamma;
    vector[K] next;
    vector[K] acc;
    for (k in 1:K) {
      gamma[k] = normal_lpdf(y[1] | mu[k], 1);
    }
    for (t in 2:N) {
      for (k in 1:K) {
        for (j in 1:K) {
          acc[j] = gamma[j] + log_theta[j][k];
        }
        next[k] = log_sum_exp(acc) + normal_lpdf(y[t] | mu[k], 1);
      }
      gamma = next;
    }
    target += log_sum_exp(gamma);
  }
}
