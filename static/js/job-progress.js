// Keeps every [data-job-status-url] box (templates/pages/_job_progress.html) current: reads the
// job's JSON status each second until it is done or failed, then shows its download link.
(() => {
  const FINISHED = ["done", "failed"];
  const LABELS = { pending: "Pending", running: "Running", done: "Done", failed: "Failed" };

  function watch(box) {
    const bar = box.querySelector("progress");
    const text = box.querySelector("[data-job-text]");
    const link = box.querySelector("[data-job-download]");
    const tick = async () => {
      let job;
      try {
        const response = await fetch(box.dataset.jobStatusUrl, { headers: { Accept: "application/json" } });
        if (!response.ok) throw new Error(String(response.status));
        job = await response.json();
      } catch (error) {
        text.textContent = "Progress unavailable; reload the page to try again.";
        return;
      }
      bar.value = job.progress;
      bar.textContent = `${job.progress}%`;
      // Only a change of status is announced, not every percent.
      const label = LABELS[job.status] || job.status;
      if (text.textContent !== label) text.textContent = label;
      box.dataset.jobStatus = job.status;
      if (!FINISHED.includes(job.status)) {
        window.setTimeout(tick, 1000);
        return;
      }
      if (job.download_url && link) {
        link.href = job.download_url;
        link.hidden = false;
      }
      if ("jobReloadWhenDone" in box.dataset) window.location.reload();
    };
    if (!FINISHED.includes(box.dataset.jobStatus)) window.setTimeout(tick, 500);
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-job-status-url]").forEach(watch);
  });
})();
