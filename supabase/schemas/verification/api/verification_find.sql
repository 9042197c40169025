create function coord.verification_find(p_repo text, p_commit_sha text)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$ select coord.verification_view(id) from coord.changesets where repo = p_repo and commit_sha = p_commit_sha $$;
comment on function coord.verification_find(text, text) is 'The changeset of a repository commit, or null.';
