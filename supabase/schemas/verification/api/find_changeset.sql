create function coord.find_changeset(p_repo text, p_commit_sha text)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$ select coord.verification_view(id) from coord.changesets where repo = p_repo and commit_sha = p_commit_sha $$;
comment on function coord.find_changeset(text, text) is 'The changeset of a repository commit, or null.';
