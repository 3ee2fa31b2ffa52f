--
-- PostgreSQL database dump
--

\restrict y1wTF7MSE59GBxPfCe7blHm79uoRNT8u6Dzb4uiwRu83fhyMbF94wpJdaZpRiEZ

-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: change; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.change (
    id integer NOT NULL,
    counter bigint NOT NULL
);


--
-- Name: change_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.change_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: change_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.change_id_seq OWNED BY public.change.id;


--
-- Name: event; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.event (
    id integer NOT NULL,
    at double precision NOT NULL,
    actor character varying(64) NOT NULL,
    kind character varying(16) NOT NULL,
    ref integer NOT NULL,
    old character varying(16),
    new character varying(16),
    detail text
);


--
-- Name: event_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.event_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: event_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.event_id_seq OWNED BY public.event.id;


--
-- Name: job; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.job (
    id integer NOT NULL,
    plan_id integer NOT NULL,
    sutclass_id integer NOT NULL,
    user_id integer NOT NULL,
    swprofile integer NOT NULL,
    session integer NOT NULL,
    state character varying(16) NOT NULL,
    priority integer NOT NULL,
    sut_id integer,
    attempts integer NOT NULL,
    boot_failures integer NOT NULL,
    step character varying(32),
    progress text,
    due_at double precision,
    session_id character varying(36),
    last_error text,
    publish character varying(16),
    results integer NOT NULL,
    errors integer NOT NULL,
    queued_at double precision NOT NULL,
    assigned_at double precision,
    finished_at double precision
);


--
-- Name: job_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.job_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: job_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.job_id_seq OWNED BY public.job.id;


--
-- Name: leader; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.leader (
    id integer NOT NULL,
    name character varying(32) NOT NULL,
    holder character varying(128),
    renewed_at double precision,
    expires_at double precision
);


--
-- Name: leader_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.leader_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: leader_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.leader_id_seq OWNED BY public.leader.id;


--
-- Name: lease; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.lease (
    id integer NOT NULL,
    user_id integer NOT NULL,
    sutclass_id integer NOT NULL,
    sut_id integer,
    state character varying(16) NOT NULL,
    priority integer NOT NULL,
    queued_at double precision NOT NULL,
    acquired_at double precision,
    ended_at double precision,
    request_key character varying(64)
);


--
-- Name: lease_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.lease_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: lease_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.lease_id_seq OWNED BY public.lease.id;


--
-- Name: plan; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.plan (
    id integer NOT NULL,
    user_id integer NOT NULL,
    sutclass_id integer NOT NULL,
    name character varying(255),
    state character varying(16) NOT NULL,
    priority integer NOT NULL,
    publish boolean NOT NULL,
    cancel_requested boolean NOT NULL,
    document text NOT NULL,
    total_jobs integer NOT NULL,
    queued_at double precision NOT NULL,
    started_at double precision,
    completed_at double precision,
    request_key character varying(64)
);


--
-- Name: plan_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.plan_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: plan_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.plan_id_seq OWNED BY public.plan.id;


--
-- Name: schema_version; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_version (
    id integer NOT NULL,
    version integer NOT NULL
);


--
-- Name: schema_version_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.schema_version_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: schema_version_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.schema_version_id_seq OWNED BY public.schema_version.id;


--
-- Name: sut; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.sut (
    id integer NOT NULL,
    name character varying(128) NOT NULL,
    sutclass_id integer NOT NULL,
    host character varying(255) NOT NULL,
    port integer NOT NULL,
    "user" character varying(64),
    keyfile character varying(1024),
    params text NOT NULL,
    health character varying(16) NOT NULL,
    reason text,
    host_key text,
    facts text,
    last_ok_at double precision,
    failures integer NOT NULL,
    next_check_at double precision,
    created_at double precision NOT NULL,
    retired_at double precision
);


--
-- Name: sut_class; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.sut_class (
    id integer NOT NULL,
    name character varying(64) NOT NULL,
    provider character varying(32) NOT NULL,
    enabled boolean NOT NULL,
    params text NOT NULL,
    created_at double precision NOT NULL,
    updated_at double precision NOT NULL
);


--
-- Name: sut_class_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.sut_class_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: sut_class_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.sut_class_id_seq OWNED BY public.sut_class.id;


--
-- Name: sut_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.sut_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: sut_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.sut_id_seq OWNED BY public.sut.id;


--
-- Name: usage; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.usage (
    id integer NOT NULL,
    sut_id integer NOT NULL,
    sutclass_id integer NOT NULL,
    user_id integer NOT NULL,
    kind character varying(8) NOT NULL,
    ref integer NOT NULL,
    started_at double precision NOT NULL,
    ended_at double precision
);


--
-- Name: usage_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.usage_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: usage_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.usage_id_seq OWNED BY public.usage.id;


--
-- Name: user; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public."user" (
    id integer NOT NULL,
    name character varying(64) NOT NULL,
    capabilities character varying(64) NOT NULL,
    token_hash character varying(64) NOT NULL,
    created_at double precision NOT NULL
);


--
-- Name: user_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.user_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: user_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.user_id_seq OWNED BY public."user".id;


--
-- Name: change id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.change ALTER COLUMN id SET DEFAULT nextval('public.change_id_seq'::regclass);


--
-- Name: event id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.event ALTER COLUMN id SET DEFAULT nextval('public.event_id_seq'::regclass);


--
-- Name: job id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.job ALTER COLUMN id SET DEFAULT nextval('public.job_id_seq'::regclass);


--
-- Name: leader id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.leader ALTER COLUMN id SET DEFAULT nextval('public.leader_id_seq'::regclass);


--
-- Name: lease id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.lease ALTER COLUMN id SET DEFAULT nextval('public.lease_id_seq'::regclass);


--
-- Name: plan id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.plan ALTER COLUMN id SET DEFAULT nextval('public.plan_id_seq'::regclass);


--
-- Name: schema_version id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_version ALTER COLUMN id SET DEFAULT nextval('public.schema_version_id_seq'::regclass);


--
-- Name: sut id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sut ALTER COLUMN id SET DEFAULT nextval('public.sut_id_seq'::regclass);


--
-- Name: sut_class id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sut_class ALTER COLUMN id SET DEFAULT nextval('public.sut_class_id_seq'::regclass);


--
-- Name: usage id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.usage ALTER COLUMN id SET DEFAULT nextval('public.usage_id_seq'::regclass);


--
-- Name: user id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public."user" ALTER COLUMN id SET DEFAULT nextval('public.user_id_seq'::regclass);


--
-- Data for Name: change; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.change VALUES (1, 18);


--
-- Data for Name: event; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.event VALUES (1, 1790000000, 'scheduler', 'user', 1, NULL, 'created', 'admin,exec,lease,query');
INSERT INTO public.event VALUES (2, 1790000000, 'config', 'sutclass', 1, NULL, 'enabled', NULL);
INSERT INTO public.event VALUES (3, 1790000000, 'config', 'sut', 1, NULL, 'unknown', NULL);
INSERT INTO public.event VALUES (4, 1790000000, 'config', 'sut', 2, NULL, 'unknown', NULL);
INSERT INTO public.event VALUES (5, 1790000000, 'admin', 'user', 2, NULL, 'created', 'exec,lease,query');
INSERT INTO public.event VALUES (6, 1790000000, 'alice', 'plan', 1, NULL, 'queued', '4 jobs');
INSERT INTO public.event VALUES (7, 1790000000, 'alice', 'plan', 2, NULL, 'queued', '4 jobs');
INSERT INTO public.event VALUES (8, 1790000000, 'alice', 'lease', 1, NULL, 'queued', NULL);
INSERT INTO public.event VALUES (9, 1790000000, 'admin', 'lease', 2, NULL, 'queued', NULL);
INSERT INTO public.event VALUES (10, 1790000000, 'controller', 'sut', 1, 'unknown', 'healthy', NULL);
INSERT INTO public.event VALUES (11, 1790000000, 'controller', 'sut', 2, 'unknown', 'healthy', NULL);
INSERT INTO public.event VALUES (12, 1790000010, 'controller', 'job', 1, 'queued', 'assigned', 'demo-01');
INSERT INTO public.event VALUES (13, 1790000010, 'controller', 'plan', 1, 'queued', 'running', NULL);
INSERT INTO public.event VALUES (14, 1790000011, 'controller', 'job', 1, 'assigned', 'running', NULL);
INSERT INTO public.event VALUES (15, 1790000012, 'controller', 'job', 1, 'running', 'completed', NULL);
INSERT INTO public.event VALUES (16, 1790000011, 'controller', 'job', 2, 'queued', 'assigned', 'demo-01');
INSERT INTO public.event VALUES (17, 1790000012, 'controller', 'job', 2, 'assigned', 'running', NULL);
INSERT INTO public.event VALUES (18, 1790000013, 'controller', 'job', 2, 'running', 'completed', NULL);
INSERT INTO public.event VALUES (19, 1790000012, 'controller', 'job', 3, 'queued', 'assigned', 'demo-01');
INSERT INTO public.event VALUES (20, 1790000013, 'controller', 'job', 3, 'assigned', 'running', NULL);
INSERT INTO public.event VALUES (21, 1790000014, 'controller', 'job', 3, 'running', 'completed', NULL);
INSERT INTO public.event VALUES (22, 1790000013, 'controller', 'job', 4, 'queued', 'assigned', 'demo-01');
INSERT INTO public.event VALUES (23, 1790000014, 'controller', 'job', 4, 'assigned', 'running', NULL);
INSERT INTO public.event VALUES (24, 1790000015, 'controller', 'job', 4, 'running', 'completed', NULL);
INSERT INTO public.event VALUES (25, 1790000015, 'controller', 'plan', 1, 'running', 'completed', NULL);
INSERT INTO public.event VALUES (26, 1790000030, 'controller', 'lease', 1, 'queued', 'acquired', 'demo-01');
INSERT INTO public.event VALUES (27, 1790000040, 'alice', 'lease', 1, 'acquired', 'released', NULL);
INSERT INTO public.event VALUES (28, 1790000050, 'controller', 'lease', 2, 'queued', 'acquired', 'demo-02');


--
-- Data for Name: job; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.job VALUES (5, 2, 1, 2, 0, 1, 'queued', 3, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 1790000000, NULL, NULL);
INSERT INTO public.job VALUES (6, 2, 1, 2, 1, 1, 'queued', 3, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 1790000000, NULL, NULL);
INSERT INTO public.job VALUES (7, 2, 1, 2, 0, 2, 'queued', 3, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 1790000000, NULL, NULL);
INSERT INTO public.job VALUES (8, 2, 1, 2, 1, 2, 'queued', 3, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 1790000000, NULL, NULL);
INSERT INTO public.job VALUES (1, 1, 1, 2, 0, 1, 'completed', 5, 1, 1, 0, 'done', '{"nonce": "91413d12a465"}', 1790000012, NULL, NULL, 'skipped', 3, 0, 1790000000, 1790000010, 1790000012);
INSERT INTO public.job VALUES (2, 1, 1, 2, 1, 1, 'completed', 5, 1, 1, 0, 'done', '{"nonce": "ab639f8f0376"}', 1790000013, NULL, NULL, 'skipped', 3, 0, 1790000000, 1790000011, 1790000013);
INSERT INTO public.job VALUES (3, 1, 1, 2, 0, 2, 'completed', 5, 1, 1, 0, 'done', '{"nonce": "61558c2a685d"}', 1790000014, NULL, NULL, 'skipped', 3, 0, 1790000000, 1790000012, 1790000014);
INSERT INTO public.job VALUES (4, 1, 1, 2, 1, 2, 'completed', 5, 1, 1, 0, 'done', '{"nonce": "77fdb3e1ae07"}', 1790000015, NULL, NULL, 'skipped', 3, 0, 1790000000, 1790000013, 1790000015);


--
-- Data for Name: leader; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: lease; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.lease VALUES (1, 2, 1, 1, 'released', 5, 1790000000, 1790000030, 1790000040, NULL);
INSERT INTO public.lease VALUES (2, 1, 1, 2, 'acquired', 7, 1790000000, 1790000050, NULL, NULL);


--
-- Data for Name: plan; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.plan VALUES (2, 2, 1, NULL, 'queued', 3, true, false, '{"benchmarks": [{"image": "localhost/fastpath-bench-busyloop:1", "name": "busyloop", "params": {"duration": 0.2}, "repeats": 1, "sessions": 2, "suite": "testing", "timeout": 3600.0, "type": "container", "warmups": 0}], "defaults": {"benchmark": {"repeats": 1, "sessions": 2, "timeout": 3600.0, "warmups": 0}}, "sut": {"name": null, "sutclass": "demo"}, "swprofiles": [{"bootscript": null, "cmdline": [], "initrd": null, "kernel": null, "kernel_git_sha": null, "modules": null, "name": "baseline", "sysctl": []}, {"bootscript": null, "cmdline": [], "initrd": null, "kernel": null, "kernel_git_sha": null, "modules": null, "name": "candidate", "sysctl": []}]}', 4, 1790000000, NULL, NULL, NULL);
INSERT INTO public.plan VALUES (1, 2, 1, NULL, 'completed', 5, true, false, '{"benchmarks": [{"image": "localhost/fastpath-bench-busyloop:1", "name": "busyloop", "params": {"duration": 0.2}, "repeats": 1, "sessions": 2, "suite": "testing", "timeout": 3600.0, "type": "container", "warmups": 0}], "defaults": {"benchmark": {"repeats": 1, "sessions": 2, "timeout": 3600.0, "warmups": 0}}, "sut": {"name": null, "sutclass": "demo"}, "swprofiles": [{"bootscript": null, "cmdline": [], "initrd": null, "kernel": null, "kernel_git_sha": null, "modules": null, "name": "baseline", "sysctl": []}, {"bootscript": null, "cmdline": [], "initrd": null, "kernel": null, "kernel_git_sha": null, "modules": null, "name": "candidate", "sysctl": []}]}', 4, 1790000000, 1790000010, 1790000015, NULL);


--
-- Data for Name: schema_version; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.schema_version VALUES (1, 1);


--
-- Data for Name: sut; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.sut VALUES (1, 'demo-01', 1, '192.0.2.1', 22, 'fpuser', '/tmp/tmpdf3yx1kg/key', '{"base_cmdline": null, "boot": "none", "boot_timeout": 600.0, "container_runtime": "docker", "power_cycle": null}', 'healthy', NULL, NULL, '{"base_cmdline": "root=/dev/vda"}', 1790000000, 0, NULL, 1790000000, NULL);
INSERT INTO public.sut VALUES (2, 'demo-02', 1, '192.0.2.2', 22, 'fpuser', '/tmp/tmpdf3yx1kg/key', '{"base_cmdline": null, "boot": "none", "boot_timeout": 600.0, "container_runtime": "docker", "power_cycle": null}', 'healthy', NULL, NULL, '{"base_cmdline": "root=/dev/vda"}', 1790000000, 0, NULL, 1790000000, NULL);


--
-- Data for Name: sut_class; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.sut_class VALUES (1, 'demo', 'static', true, '{"base_cmdline": null, "boot": "none", "boot_timeout": 600.0, "container_runtime": "docker", "power_cycle": null}', 1790000000, 1790000000);


--
-- Data for Name: usage; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.usage VALUES (1, 1, 1, 2, 'job', 1, 1790000010, 1790000012);
INSERT INTO public.usage VALUES (2, 1, 1, 2, 'job', 2, 1790000011, 1790000013);
INSERT INTO public.usage VALUES (3, 1, 1, 2, 'job', 3, 1790000012, 1790000014);
INSERT INTO public.usage VALUES (4, 1, 1, 2, 'job', 4, 1790000013, 1790000015);
INSERT INTO public.usage VALUES (5, 1, 1, 2, 'lease', 1, 1790000030, 1790000040);
INSERT INTO public.usage VALUES (6, 2, 1, 1, 'lease', 2, 1790000050, NULL);


--
-- Data for Name: user; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public."user" VALUES (1, 'admin', 'admin,exec,lease,query', '17a5926beee5f50a9635c63dde3440fe2b6fe996b1b9c3f52ab9a8a2c09c8419', 1790000000);
INSERT INTO public."user" VALUES (2, 'alice', 'exec,lease,query', 'da00dfc0c90d364b5546010e45b9b1311cbc7170ff623e7b0bba8b72120dc708', 1790000000);


--
-- Name: change_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.change_id_seq', 1, false);


--
-- Name: event_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.event_id_seq', 28, true);


--
-- Name: job_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.job_id_seq', 8, true);


--
-- Name: leader_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.leader_id_seq', 1, false);


--
-- Name: lease_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.lease_id_seq', 2, true);


--
-- Name: plan_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.plan_id_seq', 2, true);


--
-- Name: schema_version_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.schema_version_id_seq', 1, true);


--
-- Name: sut_class_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.sut_class_id_seq', 1, true);


--
-- Name: sut_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.sut_id_seq', 2, true);


--
-- Name: usage_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.usage_id_seq', 6, true);


--
-- Name: user_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.user_id_seq', 2, true);


--
-- Name: change change_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.change
    ADD CONSTRAINT change_pkey PRIMARY KEY (id);


--
-- Name: event event_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.event
    ADD CONSTRAINT event_pkey PRIMARY KEY (id);


--
-- Name: job job_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.job
    ADD CONSTRAINT job_pkey PRIMARY KEY (id);


--
-- Name: leader leader_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.leader
    ADD CONSTRAINT leader_pkey PRIMARY KEY (id);


--
-- Name: lease lease_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.lease
    ADD CONSTRAINT lease_pkey PRIMARY KEY (id);


--
-- Name: plan plan_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.plan
    ADD CONSTRAINT plan_pkey PRIMARY KEY (id);


--
-- Name: schema_version schema_version_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_version
    ADD CONSTRAINT schema_version_pkey PRIMARY KEY (id);


--
-- Name: sut_class sut_class_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sut_class
    ADD CONSTRAINT sut_class_pkey PRIMARY KEY (id);


--
-- Name: sut sut_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sut
    ADD CONSTRAINT sut_pkey PRIMARY KEY (id);


--
-- Name: usage usage_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.usage
    ADD CONSTRAINT usage_pkey PRIMARY KEY (id);


--
-- Name: user user_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public."user"
    ADD CONSTRAINT user_pkey PRIMARY KEY (id);


--
-- Name: event_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX event_at ON public.event USING btree (at);


--
-- Name: job_plan_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX job_plan_id ON public.job USING btree (plan_id);


--
-- Name: job_publish; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX job_publish ON public.job USING btree (publish);


--
-- Name: job_state; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX job_state ON public.job USING btree (state);


--
-- Name: job_sut_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX job_sut_id ON public.job USING btree (sut_id);


--
-- Name: job_sutclass_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX job_sutclass_id ON public.job USING btree (sutclass_id);


--
-- Name: job_sutclass_id_state; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX job_sutclass_id_state ON public.job USING btree (sutclass_id, state);


--
-- Name: job_user_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX job_user_id ON public.job USING btree (user_id);


--
-- Name: leader_name; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX leader_name ON public.leader USING btree (name);


--
-- Name: lease_state; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX lease_state ON public.lease USING btree (state);


--
-- Name: lease_sut_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX lease_sut_id ON public.lease USING btree (sut_id);


--
-- Name: lease_sutclass_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX lease_sutclass_id ON public.lease USING btree (sutclass_id);


--
-- Name: lease_sutclass_id_state; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX lease_sutclass_id_state ON public.lease USING btree (sutclass_id, state);


--
-- Name: lease_user_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX lease_user_id ON public.lease USING btree (user_id);


--
-- Name: lease_user_id_request_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX lease_user_id_request_key ON public.lease USING btree (user_id, request_key);


--
-- Name: plan_state; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX plan_state ON public.plan USING btree (state);


--
-- Name: plan_sutclass_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX plan_sutclass_id ON public.plan USING btree (sutclass_id);


--
-- Name: plan_user_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX plan_user_id ON public.plan USING btree (user_id);


--
-- Name: plan_user_id_request_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX plan_user_id_request_key ON public.plan USING btree (user_id, request_key);


--
-- Name: sut_class_name; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX sut_class_name ON public.sut_class USING btree (name);


--
-- Name: sut_health; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX sut_health ON public.sut USING btree (health);


--
-- Name: sut_name; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX sut_name ON public.sut USING btree (name);


--
-- Name: sut_sutclass_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX sut_sutclass_id ON public.sut USING btree (sutclass_id);


--
-- Name: usage_ended_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX usage_ended_at ON public.usage USING btree (ended_at);


--
-- Name: usage_started_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX usage_started_at ON public.usage USING btree (started_at);


--
-- Name: usage_sut_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX usage_sut_id ON public.usage USING btree (sut_id);


--
-- Name: usage_sutclass_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX usage_sutclass_id ON public.usage USING btree (sutclass_id);


--
-- Name: usage_user_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX usage_user_id ON public.usage USING btree (user_id);


--
-- Name: user_name; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX user_name ON public."user" USING btree (name);


--
-- Name: user_token_hash; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX user_token_hash ON public."user" USING btree (token_hash);


--
-- Name: job job_plan_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.job
    ADD CONSTRAINT job_plan_id_fkey FOREIGN KEY (plan_id) REFERENCES public.plan(id);


--
-- Name: job job_sut_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.job
    ADD CONSTRAINT job_sut_id_fkey FOREIGN KEY (sut_id) REFERENCES public.sut(id);


--
-- Name: job job_sutclass_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.job
    ADD CONSTRAINT job_sutclass_id_fkey FOREIGN KEY (sutclass_id) REFERENCES public.sut_class(id);


--
-- Name: job job_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.job
    ADD CONSTRAINT job_user_id_fkey FOREIGN KEY (user_id) REFERENCES public."user"(id);


--
-- Name: lease lease_sut_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.lease
    ADD CONSTRAINT lease_sut_id_fkey FOREIGN KEY (sut_id) REFERENCES public.sut(id);


--
-- Name: lease lease_sutclass_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.lease
    ADD CONSTRAINT lease_sutclass_id_fkey FOREIGN KEY (sutclass_id) REFERENCES public.sut_class(id);


--
-- Name: lease lease_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.lease
    ADD CONSTRAINT lease_user_id_fkey FOREIGN KEY (user_id) REFERENCES public."user"(id);


--
-- Name: plan plan_sutclass_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.plan
    ADD CONSTRAINT plan_sutclass_id_fkey FOREIGN KEY (sutclass_id) REFERENCES public.sut_class(id);


--
-- Name: plan plan_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.plan
    ADD CONSTRAINT plan_user_id_fkey FOREIGN KEY (user_id) REFERENCES public."user"(id);


--
-- Name: sut sut_sutclass_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sut
    ADD CONSTRAINT sut_sutclass_id_fkey FOREIGN KEY (sutclass_id) REFERENCES public.sut_class(id);


--
-- Name: usage usage_sut_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.usage
    ADD CONSTRAINT usage_sut_id_fkey FOREIGN KEY (sut_id) REFERENCES public.sut(id);


--
-- Name: usage usage_sutclass_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.usage
    ADD CONSTRAINT usage_sutclass_id_fkey FOREIGN KEY (sutclass_id) REFERENCES public.sut_class(id);


--
-- Name: usage usage_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.usage
    ADD CONSTRAINT usage_user_id_fkey FOREIGN KEY (user_id) REFERENCES public."user"(id);


--
-- PostgreSQL database dump complete
--

\unrestrict y1wTF7MSE59GBxPfCe7blHm79uoRNT8u6Dzb4uiwRu83fhyMbF94wpJdaZpRiEZ

