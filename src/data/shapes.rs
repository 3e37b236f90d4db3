//! The items of `medql gen`'s benchmark shapes besides GMAI-MMBench:
//! MMBench-style (general perception and reasoning questions with two to
//! four options, each fine `category` inside one coarse `l2-category`) and
//! MedXpertQA-MM-style (clinical vignettes with five options, by medical
//! task, body system and question type). The demo's models answer them
//! (`demo::answer_items`), so predictions are free text of the same kinds.
//!
//! The group names follow the real benchmarks; every question, option and
//! hint text is produced by the templates here, none is copied from them.
//! Everything is a pure function of `(n_items, n_models, seed)`.

use crate::data::demo::{answer_items, DemoItem, DemoModel, Placement, Rng};

/// A generated benchmark of one shape: the items' columns (without the
/// image column), one row of cells per item in index order, and the
/// models' predictions (by item index, which is the row's position).
pub(crate) struct ShapeData {
    pub headers: &'static [&'static str],
    pub rows: Vec<Vec<String>>,
    pub models: Vec<DemoModel>,
}

fn letter(i: usize) -> String {
    char::from(b'A' + i as u8).to_string()
}

/// `k` distinct texts of `pool`, in random order.
fn draw(rng: &mut Rng, pool: &[&str], k: usize) -> Vec<String> {
    let mut rest: Vec<&str> = pool.to_vec();
    (0..k)
        .map(|_| rest.swap_remove(rng.below(rest.len())).to_string())
        .collect()
}

fn weights(ws: &[u16]) -> Vec<f64> {
    ws.iter().map(|&w| f64::from(w)).collect()
}

// ---------------------------------------------------------------------------
// MMBench
// ---------------------------------------------------------------------------

pub(crate) const MMBENCH_HEADERS: [&str; 11] = [
    "index",
    "question",
    "hint",
    "A",
    "B",
    "C",
    "D",
    "answer",
    "category",
    "l2-category",
    "split",
];

const L2_CATEGORIES: [&str; 6] = [
    "coarse_perception",
    "finegrained_perception (instance-level)",
    "finegrained_perception (cross-instance)",
    "attribute_reasoning",
    "relation_reasoning",
    "logic_reasoning",
];

/// A fine category: its l2-category (position in `L2_CATEGORIES`), its
/// share of the items, its items with 2, 3 and 4 options, its question
/// texts and the pool its options are drawn from.
struct Category {
    name: &'static str,
    l2: usize,
    weight: u16,
    option_counts: [u16; 3],
    questions: &'static [&'static str],
    options: &'static [&'static str],
}

const CATEGORIES: [Category; 20] = [
    Category {
        name: "image_emotion",
        l2: 0,
        weight: 50,
        option_counts: [5, 10, 85],
        questions: &[
            "Which emotion does this image most likely convey?",
            "What is the mood of the people in the image?",
        ],
        options: &["happiness", "sadness", "anger", "fear", "surprise", "calm"],
    },
    Category {
        name: "image_quality",
        l2: 0,
        weight: 50,
        option_counts: [30, 10, 60],
        questions: &[
            "Which option describes the quality of this image best?",
            "What is the main quality problem of this photo?",
        ],
        options: &[
            "sharp and well exposed",
            "motion blur",
            "overexposed",
            "underexposed",
            "heavy noise",
            "out of focus",
        ],
    },
    Category {
        name: "image_scene",
        l2: 0,
        weight: 100,
        option_counts: [0, 5, 95],
        questions: &[
            "Which scene category matches this image the best?",
            "Where was this picture most likely taken?",
        ],
        options: &[
            "a beach",
            "a kitchen",
            "an office",
            "a forest",
            "a train interior",
            "a shopfront",
            "a rock arch",
            "a stadium",
        ],
    },
    Category {
        name: "image_style",
        l2: 0,
        weight: 50,
        option_counts: [0, 10, 90],
        questions: &[
            "Which art style does this image show?",
            "What is the style of this image?",
        ],
        options: &[
            "oil painting",
            "watercolor",
            "pencil sketch",
            "photograph",
            "pixel art",
            "comic",
        ],
    },
    Category {
        name: "image_topic",
        l2: 0,
        weight: 35,
        option_counts: [0, 10, 90],
        questions: &[
            "What is the main topic of this image?",
            "Which option describes the subject of the image best?",
        ],
        options: &[
            "food",
            "sports",
            "animals",
            "architecture",
            "transport",
            "technology",
        ],
    },
    Category {
        name: "attribute_recognition",
        l2: 1,
        weight: 70,
        option_counts: [10, 10, 80],
        questions: &[
            "What is the color of the main object in the image?",
            "Which color is the car in the picture?",
        ],
        options: &["red", "blue", "green", "yellow", "white", "black", "orange"],
    },
    Category {
        name: "celebrity_recognition",
        l2: 1,
        weight: 100,
        option_counts: [0, 0, 100],
        questions: &[
            "Who is the person in the image?",
            "Which well-known person is shown in this photo?",
        ],
        options: &[
            "Mara Lindqvist",
            "Tomas Okafor",
            "Elena Varga",
            "Hiro Tanabe",
            "Nadia Rahman",
            "Lucas Ferreira",
        ],
    },
    Category {
        name: "object_localization",
        l2: 1,
        weight: 80,
        option_counts: [10, 10, 80],
        questions: &[
            "Where is the dog located in the image?",
            "Which part of the image contains the cup?",
        ],
        options: &[
            "top left",
            "top right",
            "bottom left",
            "bottom right",
            "center",
        ],
    },
    Category {
        name: "ocr",
        l2: 1,
        weight: 40,
        option_counts: [0, 10, 90],
        questions: &[
            "What is the text written on the sign?",
            "Which word appears in the image?",
        ],
        options: &["OPEN", "EXIT", "STOP", "SALE", "WELCOME", "PARKING", "CAFE"],
    },
    Category {
        name: "action_recognition",
        l2: 2,
        weight: 55,
        option_counts: [0, 10, 90],
        questions: &[
            "What is the person in the image doing?",
            "Which action is shown in the image?",
        ],
        options: &[
            "running",
            "cooking",
            "reading",
            "swimming",
            "riding a bicycle",
            "playing guitar",
        ],
    },
    Category {
        name: "attribute_comparison",
        l2: 2,
        weight: 45,
        option_counts: [70, 30, 0],
        questions: &[
            "Are the two balls in the image the same size?",
            "Do the two cars in the picture have the same color?",
        ],
        options: &[
            "the same",
            "not the same",
            "cannot be judged from the image",
        ],
    },
    Category {
        name: "spatial_relationship",
        l2: 2,
        weight: 45,
        option_counts: [10, 20, 70],
        questions: &[
            "Where is the lamp relative to the sofa?",
            "What is the position of the cat relative to the table?",
        ],
        options: &[
            "on the left",
            "on the right",
            "above",
            "below",
            "in front",
            "behind",
        ],
    },
    Category {
        name: "function_reasoning",
        l2: 3,
        weight: 80,
        option_counts: [0, 10, 90],
        questions: &[
            "What is the object in the image mainly used for?",
            "What is the function of the tool shown in the picture?",
        ],
        options: &[
            "cutting",
            "writing",
            "cooking",
            "cleaning",
            "measuring",
            "storing food",
        ],
    },
    Category {
        name: "identity_reasoning",
        l2: 3,
        weight: 45,
        option_counts: [0, 10, 90],
        questions: &[
            "What is the likely occupation of the person in the image?",
            "Judging by the clothing, who is this person most likely to be?",
        ],
        options: &[
            "a doctor",
            "a firefighter",
            "a chef",
            "a pilot",
            "a teacher",
            "a farmer",
        ],
    },
    Category {
        name: "physical_property_reasoning",
        l2: 3,
        weight: 60,
        option_counts: [15, 15, 70],
        questions: &[
            "Which property does the material in the image most likely have?",
            "Which of these properties fits the object in the picture best?",
        ],
        options: &[
            "transparent",
            "elastic",
            "magnetic",
            "brittle",
            "flexible",
            "waterproof",
        ],
    },
    Category {
        name: "nature_relation",
        l2: 4,
        weight: 50,
        option_counts: [0, 20, 80],
        questions: &[
            "What is the relation between the two organisms in the image?",
            "How do the two species shown interact?",
        ],
        options: &[
            "predation",
            "mutualism",
            "competition",
            "parasitism",
            "commensalism",
        ],
    },
    Category {
        name: "physical_relation",
        l2: 4,
        weight: 25,
        option_counts: [20, 30, 50],
        questions: &[
            "What is the physical relation between the two objects in the image?",
            "How are the box and the shelf in the picture related?",
        ],
        options: &[
            "one supports the other",
            "they are attached",
            "one contains the other",
            "they are not touching",
        ],
    },
    Category {
        name: "social_relation",
        l2: 4,
        weight: 45,
        option_counts: [0, 10, 90],
        questions: &[
            "What is the most likely relationship between the people in the image?",
            "How are the two people in the photo most likely related?",
        ],
        options: &[
            "friends",
            "family",
            "colleagues",
            "strangers",
            "teammates",
            "teacher and student",
        ],
    },
    Category {
        name: "future_prediction",
        l2: 5,
        weight: 40,
        option_counts: [0, 10, 90],
        questions: &[
            "What will most likely happen next?",
            "Which event is most likely to follow the scene in the image?",
        ],
        options: &[
            "the ball will fall",
            "the glass will break",
            "the car will stop",
            "the door will open",
            "the boat will sink",
        ],
    },
    Category {
        name: "structuralized_imagetext_understanding",
        l2: 5,
        weight: 150,
        option_counts: [5, 5, 90],
        questions: &[
            "According to the chart, which month had the highest sales?",
            "Based on the table in the image, in which month was the value lowest?",
        ],
        options: &["January", "February", "March", "April", "May", "June"],
    },
];

const HINTS: [&str; 6] = [
    "Select the best answer.",
    "Look at the image carefully before answering.",
    "The picture was taken outdoors on a sunny day.",
    "Answer based only on what is visible in the image.",
    "Think about what usually happens in scenes like this.",
    "The image comes from a collection of everyday photos and charts.",
];

/// An MMBench-style benchmark: `n_items` items of the 20 categories (in
/// proportion to their weights), all of the `dev` split, about half with a
/// hint, a few with only 2 or 3 options; MMBench is easier than GMAI-MMBench
/// for the same models.
pub(crate) fn mmbench(n_items: usize, n_models: usize, seed: u64) -> ShapeData {
    let mut rng = Rng::stream(seed, 0x3B3B_E7C4);
    let category_weights = weights(&CATEGORIES.map(|c| c.weight));
    let mut rows = Vec::with_capacity(n_items);
    let mut items = Vec::with_capacity(n_items);
    let mut places = Vec::with_capacity(n_items);
    for index in 0..n_items {
        let fine = rng.weighted(&category_weights);
        let c = &CATEGORIES[fine];
        let k = 2 + rng.weighted(&weights(&c.option_counts));
        let correct = rng.below(k);
        let options = draw(&mut rng, c.options, k);
        let question = rng.pick(c.questions).to_string();
        let hint = if rng.chance(0.45) {
            ""
        } else {
            *rng.pick(&HINTS)
        };
        let difficulty = 0.6 * rng.normal() - 1.2;
        let mut row = vec![index.to_string(), question.clone(), hint.to_string()];
        row.extend((0..4).map(|l| options.get(l).cloned().unwrap_or_default()));
        row.extend([
            letter(correct),
            c.name.to_string(),
            L2_CATEGORIES[c.l2].to_string(),
            "dev".to_string(),
        ]);
        rows.push(row);
        items.push(DemoItem {
            index: index as i64,
            question,
            answer: char::from(b'A' + correct as u8),
            options,
            category: c.name.to_string(),
            task: L2_CATEGORIES[c.l2].to_string(),
            department: None,
            granularity: String::new(),
            modality: "camera".to_string(),
            original_task: String::new(),
        });
        places.push(Placement {
            fine,
            coarse: c.l2,
            difficulty,
        });
    }
    ShapeData {
        headers: &MMBENCH_HEADERS,
        rows,
        models: answer_items(&items, &places, n_models, seed),
    }
}

// ---------------------------------------------------------------------------
// MedXpertQA (MM)
// ---------------------------------------------------------------------------

pub(crate) const MEDXPERTQA_HEADERS: [&str; 11] = [
    "index",
    "question",
    "A",
    "B",
    "C",
    "D",
    "E",
    "answer",
    "medical_task",
    "body_system",
    "question_type",
];

const MEDICAL_TASKS: [&str; 3] = ["Diagnosis", "Treatment", "Basic Science"];
const MEDICAL_TASK_WEIGHTS: [u16; 3] = [55, 25, 20];
const QUESTION_TYPES: [&str; 2] = ["Reasoning", "Understanding"];
const QUESTION_TYPE_WEIGHTS: [u16; 2] = [70, 30];

/// What each medical task asks.
const ASKS: [[&str; 2]; 3] = [
    [
        "What is the most likely diagnosis?",
        "Which condition best explains these findings?",
    ],
    [
        "What is the most appropriate next step in management?",
        "Which treatment is most appropriate?",
    ],
    [
        "Which of the following is most directly involved?",
        "Which of the following is most likely responsible for the finding shown?",
    ],
];

/// A body system: its share of the items, presenting complaints (with the
/// patient's sex where it matters, else ""), the images shown, and the
/// option pools of the three medical tasks (each of at least 5 texts).
struct BodySystem {
    name: &'static str,
    weight: u16,
    complaints: &'static [(&'static str, &'static str)],
    images: &'static [&'static str],
    pools: [&'static [&'static str]; 3],
}

const BODY_SYSTEMS: [BodySystem; 8] = [
    BodySystem {
        name: "Cardiovascular",
        weight: 14,
        complaints: &[
            ("chest pain radiating to the left arm", ""),
            ("shortness of breath on exertion", ""),
            ("palpitations", ""),
            ("a brief loss of consciousness", ""),
        ],
        images: &["ECG", "echocardiogram", "CT angiogram"],
        pools: [
            &[
                "acute inferior myocardial infarction",
                "aortic dissection",
                "hypertrophic cardiomyopathy",
                "pericardial effusion",
                "atrial fibrillation",
                "infective endocarditis",
            ],
            &[
                "percutaneous coronary intervention",
                "beta-blocker therapy",
                "pericardiocentesis",
                "surgical valve replacement",
                "anticoagulation",
                "emergency surgical repair",
            ],
            &[
                "left anterior descending artery",
                "right coronary artery",
                "sinoatrial node",
                "atrioventricular node",
                "mitral valve",
                "ductus arteriosus",
            ],
        ],
    },
    BodySystem {
        name: "Respiratory",
        weight: 14,
        complaints: &[
            ("cough and fever", ""),
            ("sudden shortness of breath", ""),
            ("coughing up blood", ""),
            ("pleuritic chest pain", ""),
        ],
        images: &["chest X-ray", "chest CT"],
        pools: [
            &[
                "lobar pneumonia",
                "tension pneumothorax",
                "pulmonary embolism",
                "sarcoidosis",
                "lung adenocarcinoma",
                "tuberculosis",
            ],
            &[
                "needle decompression",
                "intravenous antibiotics",
                "chest tube insertion",
                "inhaled corticosteroids",
                "lobectomy",
                "anticoagulation",
            ],
            &[
                "type II pneumocytes",
                "surfactant deficiency",
                "ventilation-perfusion mismatch",
                "bronchial smooth muscle",
                "right main bronchus",
                "alveolar macrophages",
            ],
        ],
    },
    BodySystem {
        name: "Nervous",
        weight: 15,
        complaints: &[
            ("sudden weakness of the right arm", ""),
            ("the worst headache of their life", ""),
            ("a first seizure", ""),
            ("confusion after a fall", ""),
        ],
        images: &["brain MRI", "head CT"],
        pools: [
            &[
                "ischemic stroke",
                "subdural hematoma",
                "epidural hematoma",
                "glioblastoma",
                "multiple sclerosis",
                "subarachnoid hemorrhage",
            ],
            &[
                "intravenous thrombolysis",
                "surgical evacuation",
                "high-dose corticosteroids",
                "mechanical thrombectomy",
                "anticonvulsant therapy",
                "radiotherapy",
            ],
            &[
                "middle cerebral artery",
                "middle meningeal artery",
                "bridging veins",
                "oligodendrocytes",
                "internal capsule",
                "basal ganglia",
            ],
        ],
    },
    BodySystem {
        name: "Skeletal",
        weight: 16,
        complaints: &[
            ("wrist pain after a fall on an outstretched hand", ""),
            ("bone pain at night", ""),
            ("a swollen, painful knee", ""),
            ("morning back stiffness", ""),
        ],
        images: &["X-ray", "MRI"],
        pools: [
            &[
                "osteosarcoma",
                "scaphoid fracture",
                "osteomyelitis",
                "Paget disease of bone",
                "osteoarthritis",
                "ankylosing spondylitis",
            ],
            &[
                "open reduction and internal fixation",
                "cast immobilization",
                "bisphosphonate therapy",
                "surgical debridement",
                "total joint replacement",
                "NSAIDs and physiotherapy",
            ],
            &[
                "osteoclasts",
                "osteoblasts",
                "growth plate",
                "radial nerve",
                "periosteum",
                "type I collagen",
            ],
        ],
    },
    BodySystem {
        name: "Digestive",
        weight: 13,
        complaints: &[
            ("abdominal pain and vomiting", ""),
            ("difficulty swallowing", ""),
            ("yellowing of the skin", ""),
            ("bloody diarrhea", ""),
        ],
        images: &["endoscopy image", "abdominal CT"],
        pools: [
            &[
                "acute appendicitis",
                "small bowel obstruction",
                "Crohn disease",
                "hepatocellular carcinoma",
                "acute pancreatitis",
                "achalasia",
            ],
            &[
                "laparoscopic appendectomy",
                "nasogastric decompression",
                "endoscopic retrograde cholangiopancreatography",
                "proton pump inhibitor therapy",
                "liver transplantation",
                "bowel rest and intravenous fluids",
            ],
            &[
                "parietal cells",
                "superior mesenteric artery",
                "hepatic portal vein",
                "Kupffer cells",
                "myenteric plexus",
                "common bile duct",
            ],
        ],
    },
    BodySystem {
        name: "Integumentary",
        weight: 12,
        complaints: &[
            ("a changing pigmented lesion", ""),
            ("an itchy rash", ""),
            ("blisters on the trunk", ""),
            ("a red, warm swelling of the leg", ""),
        ],
        images: &["clinical photograph", "dermoscopy image"],
        pools: [
            &[
                "melanoma",
                "basal cell carcinoma",
                "psoriasis",
                "pemphigus vulgaris",
                "bullous pemphigoid",
                "cellulitis",
            ],
            &[
                "wide local excision",
                "Mohs surgery",
                "topical corticosteroids",
                "oral antibiotics",
                "methotrexate",
                "cryotherapy",
            ],
            &[
                "melanocytes",
                "keratinocytes",
                "desmosomes",
                "hemidesmosomes",
                "dermal papillae",
                "sebaceous glands",
            ],
        ],
    },
    BodySystem {
        name: "Reproductive",
        weight: 8,
        complaints: &[
            ("pelvic pain", "woman"),
            ("a painless scrotal mass", "man"),
            ("vaginal bleeding", "woman"),
            ("infertility", ""),
        ],
        images: &["pelvic ultrasound", "histopathology slide"],
        pools: [
            &[
                "ectopic pregnancy",
                "ovarian torsion",
                "endometriosis",
                "polycystic ovary syndrome",
                "testicular seminoma",
                "uterine leiomyoma",
            ],
            &[
                "methotrexate",
                "laparoscopic detorsion",
                "combined oral contraceptives",
                "radical orchiectomy",
                "myomectomy",
                "cesarean delivery",
            ],
            &[
                "corpus luteum",
                "Sertoli cells",
                "Leydig cells",
                "ovarian artery",
                "syncytiotrophoblast",
                "granulosa cells",
            ],
        ],
    },
    BodySystem {
        name: "Lymphatic",
        weight: 8,
        complaints: &[
            ("painless swelling of the neck", ""),
            ("night sweats and weight loss", ""),
            ("fever and a sore throat", ""),
            ("enlarged axillary lymph nodes", ""),
        ],
        images: &["lymph node biopsy", "PET-CT"],
        pools: [
            &[
                "Hodgkin lymphoma",
                "follicular lymphoma",
                "Burkitt lymphoma",
                "sarcoidosis",
                "tuberculous lymphadenitis",
                "infectious mononucleosis",
            ],
            &[
                "ABVD chemotherapy",
                "R-CHOP chemotherapy",
                "excisional biopsy",
                "antituberculous therapy",
                "supportive care",
                "radiotherapy",
            ],
            &[
                "Reed-Sternberg cells",
                "germinal center B cells",
                "thoracic duct",
                "paracortex",
                "splenic white pulp",
                "high endothelial venules",
            ],
        ],
    },
];

/// A MedXpertQA-MM-style benchmark: `n_items` clinical questions with five
/// options each, by medical task, body system and question type (reasoning
/// questions are full vignettes, understanding questions ask about the
/// image alone); far harder than GMAI-MMBench for the same models.
pub(crate) fn medxpertqa(n_items: usize, n_models: usize, seed: u64) -> ShapeData {
    let mut rng = Rng::stream(seed, 0x3ED_0A5E);
    let task_weights = weights(&MEDICAL_TASK_WEIGHTS);
    let system_weights = weights(&BODY_SYSTEMS.map(|b| b.weight));
    let type_weights = weights(&QUESTION_TYPE_WEIGHTS);
    let mut rows = Vec::with_capacity(n_items);
    let mut items = Vec::with_capacity(n_items);
    let mut places = Vec::with_capacity(n_items);
    for index in 0..n_items {
        let task = rng.weighted(&task_weights);
        let system = rng.weighted(&system_weights);
        let qtype = rng.weighted(&type_weights);
        let b = &BODY_SYSTEMS[system];
        let (complaint, sex) = *rng.pick(b.complaints);
        let sex = match sex {
            "" if rng.chance(0.5) => "man",
            "" => "woman",
            s => s,
        };
        let image = *rng.pick(b.images);
        let age = 18 + rng.below(70);
        let ask = *rng.pick(&ASKS[task]);
        // "An 81-year-old", "A 54-year-old".
        let a = if age == 18 || (80..90).contains(&age) {
            "An"
        } else {
            "A"
        };
        let question = if qtype == 0 {
            let pronoun = if sex == "man" { "His" } else { "Her" };
            let pulse = 60 + rng.below(60);
            let (systolic, diastolic) = (95 + rng.below(70), 55 + rng.below(40));
            format!(
                "{a} {age}-year-old {sex} presents with {complaint}. {pronoun} pulse is \
                 {pulse}/min and blood pressure is {systolic}/{diastolic} mm Hg. The {image} \
                 is shown. {ask}"
            )
        } else {
            format!(
                "The {image} of {} {age}-year-old {sex} is shown. {ask}",
                a.to_ascii_lowercase()
            )
        };
        let correct = rng.below(5);
        let options = draw(&mut rng, b.pools[task], 5);
        let difficulty = 0.6 * rng.normal() + 1.2;
        let mut row = vec![index.to_string(), question.clone()];
        row.extend(options.iter().cloned());
        row.extend([
            letter(correct),
            MEDICAL_TASKS[task].to_string(),
            b.name.to_string(),
            QUESTION_TYPES[qtype].to_string(),
        ]);
        rows.push(row);
        items.push(DemoItem {
            index: index as i64,
            question,
            answer: char::from(b'A' + correct as u8),
            options,
            category: b.name.to_string(),
            task: MEDICAL_TASKS[task].to_string(),
            department: None,
            granularity: String::new(),
            modality: image.to_string(),
            original_task: String::new(),
        });
        places.push(Placement {
            fine: system + BODY_SYSTEMS.len() * task,
            coarse: 2 * task + qtype,
            difficulty,
        });
    }
    ShapeData {
        headers: &MEDXPERTQA_HEADERS,
        rows,
        models: answer_items(&items, &places, n_models, seed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_pools_are_large_enough_and_distinct() {
        for c in &CATEGORIES {
            let most = 2 + c.option_counts.iter().rposition(|&w| w > 0).unwrap();
            assert!(c.options.len() >= most, "{}", c.name);
            assert!(c.l2 < L2_CATEGORIES.len());
            for (i, o) in c.options.iter().enumerate() {
                assert!(!c.options[i + 1..].contains(o), "{}: {o}", c.name);
            }
        }
        for b in &BODY_SYSTEMS {
            for pool in b.pools {
                assert!(pool.len() >= 5, "{}", b.name);
                for (i, o) in pool.iter().enumerate() {
                    assert!(!pool[i + 1..].contains(o), "{}: {o}", b.name);
                }
            }
        }
    }

    #[test]
    fn answers_are_options_and_models_answer() {
        for d in [mmbench(500, 3, 4), medxpertqa(500, 3, 4)] {
            let answer = d.headers.iter().position(|h| *h == "answer").unwrap();
            let a = d.headers.iter().position(|h| *h == "A").unwrap();
            for (i, r) in d.rows.iter().enumerate() {
                assert_eq!(r[0], i.to_string());
                let l = usize::from(r[answer].as_bytes()[0] - b'A');
                assert!(!r[a + l].is_empty(), "{r:?}");
            }
            assert_eq!(d.models.len(), 3);
            for m in &d.models {
                assert!(m.predictions.len() >= 490);
                assert!(m.predictions.iter().all(|(i, _)| (*i as usize) < 500));
            }
        }
    }
}
