-- SPDX-License-Identifier: GPL-3.0-or-later
-- schema.sql -- the QVD database: upstream 3.x tables, keys and cascades.
--
-- Compatible with upstream QVD 3.5 (tables of the manual's chapter 3.3
-- plus host_counters, vm_counters and versions).  Differences, all
-- additive: users.password is wider (salted, iterated hashes),
-- vm_runtimes.vm_failure records why the node could not start a VM,
-- vm_runtimes.user_end who ended the last session (told to the client), and
-- there are indexes for the lookups the node does on every loop.
-- Every statement ends with a semicolon at the end of a line: the build
-- splits this file there.

CREATE TABLE vm_states (name varchar(12) PRIMARY KEY);
CREATE TABLE vm_cmds (name varchar(20) PRIMARY KEY);
CREATE TABLE user_states (name varchar(20) PRIMARY KEY);
CREATE TABLE user_cmds (name varchar(20) PRIMARY KEY);
CREATE TABLE host_states (name varchar(20) PRIMARY KEY);
CREATE TABLE host_cmds (name varchar(20) PRIMARY KEY);

INSERT INTO vm_states (name) VALUES ('stopped'), ('starting'), ('running'),
    ('stopping'), ('zombie'), ('debugging');
INSERT INTO vm_cmds (name) VALUES ('start'), ('stop'), ('busy');
INSERT INTO user_states (name) VALUES ('disconnected'), ('connecting'),
    ('connected');
INSERT INTO user_cmds (name) VALUES ('abort');
INSERT INTO host_states (name) VALUES ('stopped'), ('starting'), ('running'),
    ('stopping'), ('lost');
INSERT INTO host_cmds (name) VALUES ('stop');

CREATE TABLE configs (
    key varchar(64) PRIMARY KEY,
    value varchar(4096) NOT NULL
);

CREATE TABLE ssl_configs (
    key varchar(64) PRIMARY KEY,
    value varchar(32768) NOT NULL
);

CREATE TABLE versions (
    component varchar(100) PRIMARY KEY,
    version varchar(100) NOT NULL
);
INSERT INTO versions (component, version) VALUES ('schema', '3.3.0');

CREATE TABLE hosts (
    id serial PRIMARY KEY,
    name varchar(127) NOT NULL CONSTRAINT hosts_name UNIQUE,
    address varchar(127) NOT NULL CONSTRAINT hosts_address UNIQUE,
    frontend boolean NOT NULL DEFAULT true,
    backend boolean NOT NULL DEFAULT true
);

CREATE TABLE host_runtimes (
    host_id integer PRIMARY KEY
        CONSTRAINT host_runtimes_fk_host_id REFERENCES hosts (id)
        ON DELETE CASCADE ON UPDATE CASCADE,
    pid integer,
    ok_ts timestamp without time zone,
    usable_ram real,
    usable_cpu real,
    state varchar(12) NOT NULL
        CONSTRAINT host_runtimes_fk_state REFERENCES host_states (name),
    blocked boolean NOT NULL DEFAULT false,
    cmd varchar(12)
        CONSTRAINT host_runtimes_fk_cmd REFERENCES host_cmds (name)
);
CREATE INDEX host_runtimes_idx_state ON host_runtimes (state);

CREATE TABLE host_counters (
    host_id integer PRIMARY KEY
        CONSTRAINT host_counters_fk_host_id REFERENCES hosts (id)
        ON DELETE CASCADE ON UPDATE CASCADE,
    http_requests integer NOT NULL DEFAULT 0,
    auth_attempts integer NOT NULL DEFAULT 0,
    auth_ok integer NOT NULL DEFAULT 0,
    nx_attempts integer NOT NULL DEFAULT 0,
    nx_ok integer NOT NULL DEFAULT 0,
    short_sessions integer NOT NULL DEFAULT 0
);

CREATE TABLE host_properties (
    host_id integer NOT NULL
        CONSTRAINT host_properties_fk_host_id REFERENCES hosts (id)
        ON DELETE CASCADE ON UPDATE CASCADE,
    key varchar(1024) NOT NULL,
    value varchar(32768) NOT NULL,
    PRIMARY KEY (host_id, key)
);

CREATE TABLE osfs (
    id serial PRIMARY KEY,
    name varchar(64) NOT NULL CONSTRAINT osfs_name UNIQUE,
    memory integer NOT NULL,
    use_overlay boolean NOT NULL,
    user_storage_size integer
);

CREATE TABLE osf_properties (
    osf_id integer NOT NULL
        CONSTRAINT osf_properties_fk_osf_id REFERENCES osfs (id)
        ON DELETE CASCADE ON UPDATE CASCADE,
    key varchar(1024) NOT NULL,
    value varchar(32768) NOT NULL,
    PRIMARY KEY (osf_id, key)
);

CREATE TABLE dis (
    id serial PRIMARY KEY,
    osf_id integer NOT NULL
        CONSTRAINT dis_fk_osf_id REFERENCES osfs (id) ON UPDATE CASCADE,
    path varchar(4096) NOT NULL,
    version varchar(64) NOT NULL,
    CONSTRAINT dis_osf_id_version UNIQUE (osf_id, version)
);
CREATE INDEX dis_idx_osf_id ON dis (osf_id);

CREATE TABLE di_tags (
    id serial PRIMARY KEY,
    di_id integer NOT NULL
        CONSTRAINT di_tags_fk_di_id REFERENCES dis (id)
        ON DELETE CASCADE ON UPDATE CASCADE,
    tag varchar(1024) NOT NULL,
    fixed boolean NOT NULL DEFAULT false
);
CREATE INDEX di_tags_idx_di_id ON di_tags (di_id);
CREATE INDEX di_tags_idx_tag ON di_tags (tag);

CREATE TABLE di_properties (
    di_id integer NOT NULL
        CONSTRAINT di_properties_fk_di_id REFERENCES dis (id)
        ON DELETE CASCADE ON UPDATE CASCADE,
    key varchar(1024) NOT NULL,
    value varchar(32768) NOT NULL,
    PRIMARY KEY (di_id, key)
);

CREATE TABLE users (
    id serial PRIMARY KEY,
    login varchar(64) NOT NULL CONSTRAINT users_login UNIQUE,
    password varchar(256)
);

CREATE TABLE user_properties (
    user_id integer NOT NULL
        CONSTRAINT user_properties_fk_user_id REFERENCES users (id)
        ON DELETE CASCADE ON UPDATE CASCADE,
    key varchar(1024) NOT NULL,
    value varchar(32768) NOT NULL,
    PRIMARY KEY (user_id, key)
);

CREATE TABLE user_extras (
    id serial PRIMARY KEY,
    user_id integer NOT NULL
        CONSTRAINT user_extras_fk_user_id REFERENCES users (id)
        ON DELETE CASCADE ON UPDATE CASCADE,
    key varchar(1024) NOT NULL,
    value varchar(32768) NOT NULL
);
CREATE INDEX user_extras_idx_user_id ON user_extras (user_id);

CREATE TABLE vms (
    id serial PRIMARY KEY,
    name varchar(64) NOT NULL CONSTRAINT vms_name UNIQUE,
    user_id integer NOT NULL
        CONSTRAINT vms_fk_user_id REFERENCES users (id) ON UPDATE CASCADE,
    osf_id integer NOT NULL
        CONSTRAINT vms_fk_osf_id REFERENCES osfs (id) ON UPDATE CASCADE,
    di_tag varchar(128) NOT NULL DEFAULT 'default',
    ip varchar(15) CONSTRAINT vms_ip UNIQUE,
    storage varchar(4096)
);
CREATE INDEX vms_idx_user_id ON vms (user_id);
CREATE INDEX vms_idx_osf_id ON vms (osf_id);

CREATE TABLE vm_properties (
    vm_id integer NOT NULL
        CONSTRAINT vm_properties_fk_vm_id REFERENCES vms (id)
        ON DELETE CASCADE ON UPDATE CASCADE,
    key varchar(1024) NOT NULL,
    value varchar(32768) NOT NULL,
    PRIMARY KEY (vm_id, key)
);

CREATE TABLE vm_counters (
    vm_id integer PRIMARY KEY
        CONSTRAINT vm_counters_fk_vm_id REFERENCES vms (id)
        ON DELETE CASCADE ON UPDATE CASCADE,
    run_attempts integer NOT NULL DEFAULT 0,
    run_ok integer NOT NULL DEFAULT 0
);

CREATE TABLE vm_runtimes (
    vm_id integer PRIMARY KEY
        CONSTRAINT vm_runtimes_fk_vm_id REFERENCES vms (id)
        ON DELETE CASCADE ON UPDATE CASCADE,
    host_id integer
        CONSTRAINT vm_runtimes_fk_host_id REFERENCES hosts (id)
        ON UPDATE CASCADE,
    current_osf_id integer
        CONSTRAINT vm_runtimes_fk_current_osf_id REFERENCES osfs (id)
        ON UPDATE CASCADE,
    current_di_id integer
        CONSTRAINT vm_runtimes_fk_current_di_id REFERENCES dis (id)
        ON UPDATE CASCADE,
    user_ip varchar(15),
    real_user_id integer
        CONSTRAINT vm_runtimes_fk_real_user_id REFERENCES users (id)
        ON UPDATE CASCADE,
    vm_state varchar(12) NOT NULL DEFAULT 'stopped'
        CONSTRAINT vm_runtimes_fk_vm_state REFERENCES vm_states (name),
    vm_state_ts integer,
    vm_cmd varchar(12)
        CONSTRAINT vm_runtimes_fk_vm_cmd REFERENCES vm_cmds (name),
    vm_pid integer,
    user_state varchar(12) NOT NULL DEFAULT 'disconnected'
        CONSTRAINT vm_runtimes_fk_user_state REFERENCES user_states (name),
    user_state_ts integer,
    user_cmd varchar(12)
        CONSTRAINT vm_runtimes_fk_user_cmd REFERENCES user_cmds (name),
    vma_ok_ts integer,
    l7r_host_id integer
        CONSTRAINT vm_runtimes_fk_l7r_host_id REFERENCES hosts (id)
        ON UPDATE CASCADE,
    l7r_pid integer,
    vm_address varchar(127),
    vm_vma_port integer,
    vm_x_port integer,
    vm_ssh_port integer,
    vm_vnc_port integer,
    vm_mon_port integer,
    vm_serial_port integer,
    blocked boolean DEFAULT false,
    vm_expiration_soft timestamp without time zone,
    vm_expiration_hard timestamp without time zone,
    vm_failure varchar(4096),
    -- who ended the last session, when not its user: 'administrator',
    -- 'another client' (cleared when a session ends by itself)
    user_end varchar(32)
);
CREATE INDEX vm_runtimes_idx_host_id ON vm_runtimes (host_id);
CREATE INDEX vm_runtimes_idx_l7r_host_id ON vm_runtimes (l7r_host_id);
CREATE INDEX vm_runtimes_idx_vm_state ON vm_runtimes (vm_state);
CREATE INDEX vm_runtimes_idx_current_di_id ON vm_runtimes (current_di_id);
CREATE INDEX vm_runtimes_idx_real_user_id ON vm_runtimes (real_user_id);

-- The WAT's sessions (ours, beyond upstream): the SHA-256 of a cookie's
-- token, ended at logout and when the admin password changes.
CREATE TABLE wat_sessions (
    token_hash char(64) PRIMARY KEY,
    login varchar(128) NOT NULL,
    password_mark char(64) NOT NULL,
    expires timestamp NOT NULL
);

DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET default_transaction_isolation '
        'TO serializable', current_database());
END
$$;
