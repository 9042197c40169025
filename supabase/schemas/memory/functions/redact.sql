create function coord.redact(p_text text)
returns text
language sql
immutable
set search_path = ''
as $$
  select regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
         regexp_replace(regexp_replace(regexp_replace(p_text,
    '-----BEGIN [A-Z ]*PRIVATE KEY-----[^-]*-----END [A-Z ]*PRIVATE KEY-----', '[REDACTED]', 'g'),
    '(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})', '[REDACTED]', 'g'),
    '\m(AKIA|ASIA)[0-9A-Z]{16}\M', '[REDACTED]', 'g'),
    '\msk-[A-Za-z0-9_-]{16,}', '[REDACTED]', 'g'),
    '\mxox[abeprs]-[A-Za-z0-9-]{10,}', '[REDACTED]', 'g'),
    '\meyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}', '[REDACTED]', 'g'),
    '(bearer\s+)[A-Za-z0-9._~+/=-]{8,}', '\1[REDACTED]', 'gi'),
    '((password|passwd|pwd|secret|client_secret|api[_-]?key|access[_-]?token|auth[_-]?token)["'']?\s*[:=]\s*)["'']?[^\s"'',;]+',
    '\1[REDACTED]', 'gi'),
    '(://[^/\s:@]+:)[^/\s@]+@', '\1[REDACTED]@', 'g')
$$;
comment on function coord.redact(text) is
  'Replaces secrets with [REDACTED] before anything is stored: GitHub tokens (ghp_/gho_/github_pat_), AWS key ids, '
  'sk- API keys, Slack xox tokens, JWTs, PEM private keys, Bearer tokens, password=/secret: assignments and '
  'passwords in URLs.';
