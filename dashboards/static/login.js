(async () => {
  const lang = (document.cookie.match(/sb_lang=(\w+)/) || [])[1] || "uk";
  await loadStrings(lang);
  document.getElementById("login-form").addEventListener("submit", async e => {
    e.preventDefault();
    const response = await fetch("/api/v1/auth/login?lang=" + lang, {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({login: document.getElementById("login").value, password: document.getElementById("password").value})});
    const data = await response.json();
    if (response.ok && data.notice) sessionStorage.setItem("sb_notice", data.notice.message);
    if (response.ok) location.href = "/"; else document.getElementById("login-error").textContent = data.message;
  });
})();
